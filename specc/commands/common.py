"""Helpers the sub-commands share: finding spec files, loading them, printing diagnostics."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from specc.diagnostics import Diagnostic, SpeccError
from specc.source import Source

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A command-line mistake: printed as one line, exit code 2."""


def use_color(stream: object = sys.stdout) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


def spec_files(paths: Sequence[str]) -> list[Path]:
    """The .spec files named or found (recursively) under the given paths, sorted.

    A named path that does not exist stays in the list: loading it reports SPC015, as every
    command does for a spec it cannot read, so a mistyped path fails a CI check visibly.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.spec") if p.is_file()))
        else:
            found.append(path)
    return found


def print_diagnostics(
    diagnostics: Sequence[Diagnostic],
    sources: dict[str, Source],
    fmt: str = "text",
    stream: object = None,
) -> None:
    """Render diagnostics in a format to a stream (stderr for text, stdout for data formats)."""
    from specc.render import renderer

    out = stream or sys.stdout
    out.write(renderer(fmt)(diagnostics, sources, use_color(out)))  # type: ignore[attr-defined]


def source_of(err: SpeccError, path: Path, data: bytes | None = None) -> dict[str, Source]:
    """The decoded source of a failed file (or of its bytes, already read), for caret snippets."""
    from specc.limits import current
    from specc.parse import decode, read

    try:
        if data is not None:
            return {str(path): decode(data, str(path), path, current().max_bytes)}
        # Through `read`, so a huge file, a device or a pipe is never read without bound.
        return {str(path): read(path, current().max_bytes)}
    except SpeccError:
        return {}
