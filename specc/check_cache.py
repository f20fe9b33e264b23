"""A per-user cache of `specc check` results, so that an unchanged spec is not analysed again.

Like ruff's and mypy's caches. The result of checking one file is stored under a key made of
everything that decides it: the file's bytes and displayed name; specc's own code (the size and
modification time of every file of the package and of the grammar, and of lark, pydantic and
pydantic-core); whether lint runs, the command line's --select/--ignore and the spec's
[tool.specc]; and the limits. A hit skips the front end and the linter, and with them importing
lark, pydantic and specc's models, which is most of a `specc check` start.

Entries are JSON (never pickles), one file per checked path in the user's own cache folder,
replaced when that path is checked again, so the cache grows with the number of paths checked,
not with the number of edits. Anything unusual (a device, a file over the size limit, an
unreadable entry) simply bypasses the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.machinery import PathFinder
from pathlib import Path

from specc import user_cache
from specc.codes import Severity
from specc.diagnostics import Diagnostic
from specc.source import Span, TooLarge, read_bounded

# Bump when the entry layout changes.
LAYOUT = 1
_CODE_SUFFIXES = (".py", ".lark", ".toml", ".json")


@dataclass(frozen=True)
class Hit:
    """A stored result: the diagnostics of one file and its decoded text for snippets."""

    diagnostics: list[Diagnostic]
    text: str | None


class ResultCache:
    """The check results of one run's settings, looked up and stored per file."""

    def __init__(self, where: Path, settings: str) -> None:
        self.where = where
        self.settings = settings

    def key(self, path: Path, data: bytes, config: str) -> str:
        """The digest of everything that decides the result of checking `data` as `path`."""
        digest = hashlib.sha256()
        for part in (self.settings, str(path), config):
            digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(data)
        return digest.hexdigest()

    def _entry(self, path: Path) -> Path:
        name = hashlib.sha256(os.fsencode(os.path.abspath(path))).hexdigest()[:32]
        return self.where / f"{name}.json"

    def get(self, path: Path, key: str) -> Hit | None:
        """The stored result for `path` when it was stored under `key`, else None."""
        try:
            with self._entry(path).open(encoding="utf-8") as fh:
                entry = json.load(fh)
            if not isinstance(entry, dict) or entry.get("key") != key:
                return None
            text = entry["text"]
            if text is not None and not isinstance(text, str):
                return None
            return Hit([_load(item) for item in entry["diagnostics"]], text)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # missing, stale or damaged: check the file again

    def put(self, path: Path, key: str, diagnostics: Sequence[Diagnostic], text: str | None) -> None:
        """Store a result atomically (a concurrent reader sees the old entry or the new one)."""
        entry = {"key": key, "diagnostics": [_dump(d) for d in diagnostics], "text": text}
        target = self._entry(path)
        temporary = target.with_name(f"{target.stem}.{os.getpid()}.tmp")
        try:
            temporary.write_text(json.dumps(entry, ensure_ascii=False), encoding="utf-8")
            os.replace(temporary, target)
        except OSError:
            temporary.unlink(missing_ok=True)  # a full disk costs the cache, never the check


def open_cache(
    lint: bool, select: Sequence[str] | None, ignore: Sequence[str], limits: str
) -> ResultCache | None:
    """The cache for a run with these settings, or None when disabled (SPECC_NO_CACHE) or unwritable."""
    if os.environ.get("SPECC_NO_CACHE"):
        return None
    where = user_cache.folder("check")
    if where is None:
        return None
    settings = json.dumps([LAYOUT, code_fingerprint(), lint, select, list(ignore), limits])
    return ResultCache(where, settings)


def read_bytes(path: Path, max_bytes: int) -> bytes | None:
    """The bytes of a regular file within the size limit, else None (the front end reports why)."""
    try:
        data = read_bounded(path, max_bytes)
    except (OSError, TooLarge):
        return None
    return data if len(data) <= max_bytes else None


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """What identifies the code that checks: specc's files and the versions of its libraries.

    Sizes and modification times, not contents: a stat per file keeps a hit fast, and any edit
    or reinstall changes them.
    """
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(sys.version.encode())
    files = [package / "grammar" / "specc.lark", package.parent / "grammar" / "specc.lark"]
    for library in ("lark", "pydantic", "pydantic_core"):
        spec = PathFinder.find_spec(library)
        if spec is not None and spec.origin:
            files.append(Path(spec.origin))
    for folder, _, names in sorted(os.walk(package)):
        files.extend(Path(folder, name) for name in sorted(names) if name.endswith(_CODE_SUFFIXES))
    for file in files:
        try:
            info = file.stat()
        except OSError:
            continue
        digest.update(f"{file}\0{info.st_size}\0{info.st_mtime_ns}\0".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _dump(diagnostic: Diagnostic) -> dict[str, object]:
    span = diagnostic.span
    return {
        "code": diagnostic.code,
        "message": diagnostic.message,
        "span": [span.line, span.column, span.end_line, span.end_column],
        "file": diagnostic.file,
        "help": diagnostic.help,
        "severity": diagnostic.severity.value if diagnostic.severity else None,
    }


def _load(item: dict) -> Diagnostic:
    severity = item["severity"]
    return Diagnostic(
        item["code"],
        item["message"],
        Span(*item["span"]),
        item["file"],
        item["help"],
        Severity(severity) if severity else None,
    )
