"""Source text of a spec and the positions of things in it."""

from __future__ import annotations

import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file: 1-based line and column, counted in characters."""

    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def point(cls, line: int, column: int) -> Span:
        """A one-character span at line:column."""
        return cls(line, column, line, column + 1)

    def cover(self, other: Span) -> Span:
        """The smallest span holding both spans."""
        start = min((self.line, self.column), (other.line, other.column))
        end = max((self.end_line, self.end_column), (other.end_line, other.end_column))
        return Span(start[0], start[1], end[0], end[1])


START = Span(1, 1, 1, 2)


@dataclass(frozen=True)
class Source:
    """The decoded text of one spec file and its display name."""

    name: str
    text: str
    path: Path | None = None

    @cached_property
    def lines(self) -> list[str]:
        """The text split into lines without their line endings (split once, then cached)."""
        return self.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

    def line(self, number: int) -> str:
        """The text of 1-based line `number`, or '' past the end."""
        lines = self.lines
        return lines[number - 1] if 1 <= number <= len(lines) else ""

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based line and column of a character offset."""
        before = self.text[:offset]
        line = before.count("\n") + 1
        column = offset - (before.rfind("\n") + 1) + 1
        return line, column


class TooLarge(Exception):
    """A spec file over the size limit, refused before it is read."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


def read_bounded(path: Path, max_bytes: int) -> bytes:
    """A regular file's bytes, never more than max_bytes + 1 of them (the file may grow meanwhile).

    Raises OSError when the path cannot be read or is not a regular file (devices and pipes such
    as /dev/zero or a FIFO never end or block on open, so they are refused unread), and TooLarge
    when the file is over `max_bytes`.
    """
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise OSError(0, "not a regular file")
    if info.st_size > max_bytes:
        raise TooLarge(info.st_size)
    with path.open("rb") as fh:
        return fh.read(max_bytes + 1)
