"""GitHub Actions workflow commands: one `::error file=...,line=...::message` annotation per diagnostic.

See GitHub's "Workflow commands for GitHub Actions". The message is escaped as command data
(%, CR, LF) and property values additionally escape `:` and `,`.
"""

from __future__ import annotations

from collections.abc import Sequence

from specc.codes import Severity
from specc.diagnostics import Diagnostic
from specc.source import Source

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """Escape a workflow command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workspace_path(file: str) -> str:
    """The path GitHub expects: relative to the checkout ($GITHUB_WORKSPACE) when it lies inside it."""
    import os
    from pathlib import Path

    root = os.environ.get("GITHUB_WORKSPACE")
    path = Path(file)
    if root and path.is_absolute():
        try:
            return path.relative_to(Path(root)).as_posix()
        except ValueError:
            return file
    return file


def annotation(diag: Diagnostic) -> str:
    """One diagnostic as a workflow command."""
    span = diag.span
    properties = [
        ("file", workspace_path(diag.file)),
        ("line", str(span.line)),
        ("col", str(span.column)),
        ("endLine", str(span.end_line)),
        # One past the last character, as specc's spans (and ruff's annotations) count it.
        ("endColumn", str(span.end_column)),
        ("title", f"{diag.code} {diag.name}"),
    ]
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    message = diag.message + (f"\nhelp: {diag.help}" if diag.help else "")
    return f"::{_COMMAND[diag.level]} {props}::{escape_data(message)}"


def render(diagnostics: Sequence[Diagnostic], sources: dict[str, Source], color: bool) -> str:
    """All diagnostics as annotations, then a plain summary line for the log."""
    lines = [annotation(d) for d in diagnostics]
    errors = sum(d.level is Severity.ERROR for d in diagnostics)
    warnings = sum(d.level is Severity.WARNING for d in diagnostics)
    files = len(sources) or len({d.file for d in diagnostics})
    lines.append(f"specc: {errors} error(s), {warnings} warning(s) in {files} file(s)")
    return "\n".join(lines) + "\n"
