"""Per-line suppression comments: `# specc: ignore[SPC401]` or `# specc: ignore[SPC401, double-softmax]`.

The lowering drops comments, so they are read from the source text here. A comment applies to
diagnostics that start on its own line. A suppression that suppresses nothing is reported
(SPC400), so stale ones do not pile up.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from specc.codes import BY_NAME, CODES
from specc.diagnostics import Diagnostic
from specc.source import Source, Span

if TYPE_CHECKING:
    from specc.config import Selection

_DIRECTIVE = re.compile(r"specc\s*:\s*ignore\b(?:\[([^\]]*)\]?)?", re.IGNORECASE)
UNUSED = "SPC400"


@dataclass(frozen=True, slots=True)
class Entry:
    """One code named in a suppression comment, and where it is written."""

    line: int
    text: str
    span: Span


def comment_start(line: str) -> int:
    """The index of the `#` that starts a comment on this line, or -1 (a `#` in a string is text)."""
    in_string = False
    i = 0
    while i < len(line):
        ch = line[i]
        if in_string:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "#":
            return i
        i += 1
    return -1


def directives(source: Source) -> Iterator[tuple[int, int, str | None]]:
    """(line, column of the directive, the text inside the brackets or None) for each comment."""
    # The source's lines, as the parser and the diagnostics number them.
    for number, line in enumerate(source.lines, start=1):
        if "specc" not in line:  # cheap filter: most lines carry no directive
            continue
        start = comment_start(line)
        if start < 0:
            continue
        match = _DIRECTIVE.search(line, start)
        if match is None:
            continue
        inner = match.group(1)
        yield number, match.start(1) + 1 if inner is not None else match.start() + 1, inner


def entries(source: Source) -> tuple[list[Entry], list[Diagnostic]]:
    """The suppression entries, and diagnostics for directives that name no code."""
    found: list[Entry] = []
    problems: list[Diagnostic] = []
    for line, column, inner in directives(source):
        if inner is None or not inner.strip():
            problems.append(
                Diagnostic(
                    UNUSED,
                    "`specc: ignore` names no code, so it suppresses nothing",
                    Span(line, column, line, column + len("specc: ignore")),
                    source.name,
                    "name the codes: # specc: ignore[SPC401]",
                )
            )
            continue
        offset = 0
        for part in inner.split(","):
            text = part.strip()
            at = column + offset + (len(part) - len(part.lstrip()))
            offset += len(part) + 1
            if text:
                found.append(Entry(line, text, Span(line, at, line, at + len(text))))
    return found, problems


def _resolve(text: str) -> str | None:
    """The code an entry names (a code or a rule name), or None when unknown."""
    if text.upper() in CODES:
        return text.upper()
    code = BY_NAME.get(text.lower())
    return code.code if code else None


def apply(source: Source, diagnostics: Sequence[Diagnostic], selection: Selection) -> list[Diagnostic]:
    """Drop suppressed diagnostics and add one SPC400 per suppression that suppressed nothing."""
    from specc.lint import rule_codes

    found, problems = entries(source)
    if not found and not problems:
        return list(diagnostics)
    by_line: dict[int, dict[str, Entry]] = {}
    unused: list[Diagnostic] = []
    lint_codes = rule_codes()
    for entry in found:
        code = _resolve(entry.text)
        if code is None:
            unused.append(_unused(source, entry, f"`{entry.text}` is not a specc code or rule name"))
        elif code not in lint_codes:
            unused.append(
                _unused(
                    source,
                    entry,
                    f"{code} is a front-end check; its errors cannot be suppressed",
                    "fix the spec instead; only lint rules (SPC4xx) can be suppressed",
                )
            )
        else:
            by_line.setdefault(entry.line, {})[code] = entry
    used: set[tuple[int, str]] = set()
    kept: list[Diagnostic] = []
    for diag in diagnostics:
        if diag.code in by_line.get(diag.span.line, {}):
            used.add((diag.span.line, diag.code))
        else:
            kept.append(diag)
    enabled = selection.enabled
    for line, codes in by_line.items():
        for code, entry in codes.items():
            # A rule that did not run cannot have fired, so its suppression is not known to be stale.
            if (line, code) not in used and code != UNUSED and enabled(code):
                unused.append(_unused(source, entry, f"nothing on this line triggers {code} to suppress"))
    for diag in problems + unused:
        if UNUSED in by_line.get(diag.span.line, {}):
            continue  # `ignore[SPC400]` keeps a deliberate, currently unused suppression quiet
        if enabled(UNUSED):
            severity = selection.severity(UNUSED)
            kept.append(Diagnostic(diag.code, diag.message, diag.span, diag.file, diag.help, severity))
    return kept


def _unused(source: Source, entry: Entry, message: str, help: str | None = None) -> Diagnostic:
    return Diagnostic(
        UNUSED,
        message,
        entry.span,
        source.name,
        help or "remove it from the `# specc: ignore[...]` comment",
    )
