"""Machine-readable diagnostics: {"diagnostics": [...], "summary": {...}}."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from specc.codes import Severity
from specc.diagnostics import Diagnostic
from specc.source import Source


def as_dict(diag: Diagnostic) -> dict[str, Any]:
    """The JSON object of one diagnostic."""
    return {
        "file": diag.file,
        "line": diag.span.line,
        "column": diag.span.column,
        "end_line": diag.span.end_line,
        "end_column": diag.span.end_column,
        "code": diag.code,
        "name": diag.name,
        "severity": diag.level.value,
        "message": diag.message,
        "help": diag.help,
    }


def render(diagnostics: Sequence[Diagnostic], sources: dict[str, Source], color: bool) -> str:
    """All diagnostics as one JSON document."""
    counts = {s.value: sum(d.level is s for d in diagnostics) for s in Severity}
    document = {
        "diagnostics": [as_dict(d) for d in diagnostics],
        "summary": {"files": len(sources), **counts},
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
