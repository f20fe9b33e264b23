"""The per-user cache folder that specc keeps its compiled parser and check results in."""

from __future__ import annotations

import os
from pathlib import Path


def folder(*parts: str) -> Path | None:
    """`$XDG_CACHE_HOME/specc/<parts>` (else ~/.cache/...), created; None when it cannot be trusted.

    Only a folder that belongs to the user and that nobody else can write is used, never a shared
    temporary folder: what is cached there decides what specc reports (and the parser cache is a
    pickle, which runs code when loaded). Nothing is cached where nothing can be written.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    levels = [Path(base, "specc", *parts[:i]) for i in range(len(parts) + 1)]
    where = levels[-1]
    try:
        Path(base).mkdir(parents=True, exist_ok=True)
        for level in levels:
            level.mkdir(mode=0o700, exist_ok=True)
            info = level.stat()
            if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o022):
                return None
    except OSError:
        return None
    if not os.access(where, os.R_OK | os.W_OK):
        return None
    return where
