"""SARIF 2.1.0: the static-analysis interchange format read by GitHub code scanning and IDEs.

The log holds one run whose `tool.driver.rules` describe every lint rule (and each front-end
code that occurs); each result points at its rule by id and index. Columns count Unicode code
points, as specc's do (`columnKind`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from specc import __version__
from specc.codes import CODES, Code, Severity
from specc.diagnostics import Diagnostic
from specc.source import Source

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def uri(file: str) -> str:
    """A file name as an artifact URI: relative paths stay relative (with `/`), absolute become file:."""
    path = Path(file)
    if path.is_absolute():
        return path.as_uri()
    return quote(path.as_posix())


def descriptor(code: Code) -> dict[str, Any]:
    """The reportingDescriptor of one code."""
    from specc.lint import all_rules

    rule = next((r for r in all_rules() if r.id == code.code), None)
    full = rule.finds if rule else (code.explanation or code.summary)
    plain = f"{rule.finds} {rule.why} Fix: {rule.fix}" if rule else full
    return {
        "id": code.code,
        "name": code.name,
        "shortDescription": {"text": code.summary},
        "fullDescription": {"text": full},
        "help": {"text": plain, "markdown": code.explanation or code.summary},
        "defaultConfiguration": {"level": _LEVEL[code.severity]},
        "properties": {"tags": ["lint" if rule else "front-end"]},
    }


def result(diag: Diagnostic, index: int) -> dict[str, Any]:
    """One diagnostic as a SARIF result."""
    span = diag.span
    text = diag.message + (f"\nhelp: {diag.help}" if diag.help else "")
    return {
        "ruleId": diag.code,
        "ruleIndex": index,
        "level": _LEVEL[diag.level],
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri(diag.file)},
                    "region": {
                        "startLine": span.line,
                        "startColumn": span.column,
                        "endLine": span.end_line,
                        "endColumn": span.end_column,
                    },
                }
            }
        ],
    }


def log(diagnostics: Sequence[Diagnostic]) -> dict[str, Any]:
    """The SARIF log object."""
    from specc.lint import rule_codes

    used = {d.code for d in diagnostics}
    codes = sorted(rule_codes() | used)
    index = {code: i for i, code in enumerate(codes)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "specc",
                        "version": __version__,
                        "informationUri": "https://example.invalid/specc/docs",
                        "rules": [descriptor(CODES[c]) for c in codes],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [result(d, index[d.code]) for d in diagnostics],
            }
        ],
    }


def render(diagnostics: Sequence[Diagnostic], sources: dict[str, Source], color: bool) -> str:
    """The SARIF log as JSON."""
    return json.dumps(log(diagnostics), indent=2, ensure_ascii=False) + "\n"
