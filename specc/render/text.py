"""Human-readable diagnostics: `file:line:col: severity CODE name: message`, the line, a caret."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from specc.codes import Severity
from specc.diagnostics import Diagnostic
from specc.source import Source

_COLORS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _printable(line: str) -> str:
    """The source line as it can be shown: tabs as spaces, control characters as '?'."""
    return "".join(" " if ch == "\t" else ch if ch.isprintable() else "?" for ch in line)


def _width(text: str) -> int:
    """Terminal columns of a text: wide (CJK, emoji) characters take two, combining marks none."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


MAX_SHOWN = 200


def snippet(diag: Diagnostic, source: Source | None, color: bool) -> list[str]:
    """The source line under a diagnostic with a caret underline."""
    if source is None:
        return []
    span = diag.span
    text = _printable(source.line(span.line))
    if not text.strip():
        return []
    end = span.end_column if span.end_line == span.line else len(text) + 1
    start = span.column - 1
    if len(text) > MAX_SHOWN:
        # A huge one-line spec would flood the terminal: show a window around the span.
        left = max(0, start - MAX_SHOWN // 4)
        tail = "..." if left + MAX_SHOWN < len(text) else ""
        text = ("..." if left else "") + text[left : left + MAX_SHOWN] + tail
        shift = left - (3 if left else 0)
        start, end = start - shift, min(end - shift, len(text) + 1)
    # Columns count characters; the caret line counts terminal cells so that it stays under
    # the span when wide characters come before it or inside it.
    width = max(1, _width(text[start : max(start, min(end, len(text) + 1) - 1)]))
    gutter = " " * len(str(span.line))
    marker = _paint("^" * width, _COLORS[diag.level], color)
    return [f"{gutter} |", f"{span.line} | {text}", f"{gutter} | {' ' * _width(text[:start])}{marker}"]


def render_one(diag: Diagnostic, source: Source | None, color: bool) -> str:
    """One diagnostic with its snippet and help."""
    level = _paint(diag.level.value, _COLORS[diag.level] + ";1", color)
    head = (
        f"{diag.file}:{diag.span.line}:{diag.span.column}: {level} "
        f"{_paint(diag.code, '1', color)} {diag.name}: {diag.message}"
    )
    lines = [head, *snippet(diag, source, color)]
    if diag.help:
        gutter = " " * len(str(diag.span.line))
        lines.append(f"{gutter} = help: {diag.help}")
    return "\n".join(lines)


def render(diagnostics: Sequence[Diagnostic], sources: dict[str, Source], color: bool) -> str:
    """All diagnostics, then a one-line count."""
    parts = [render_one(d, sources.get(d.file), color) for d in diagnostics]
    errors = sum(d.level is Severity.ERROR for d in diagnostics)
    warnings = sum(d.level is Severity.WARNING for d in diagnostics)
    files = len(sources) or len({d.file for d in diagnostics})
    if diagnostics:
        parts.append(
            f"Found {errors} error{'s' * (errors != 1)} and {warnings} "
            f"warning{'s' * (warnings != 1)} in {files} file{'s' * (files != 1)}."
        )
    else:
        parts.append(f"All checks passed ({files} file{'s' * (files != 1)}).")
    return "\n\n".join(parts[:-1]) + ("\n\n" if len(parts) > 1 else "") + parts[-1] + "\n"
