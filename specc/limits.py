"""Resource limits on a spec (file bytes, layers, parameters): defaults, the CLI options, the current values.

The library takes limits as keyword arguments (`pipeline.load(path, max_layers=...)`); the command
line sets them once for the whole command with `--max-bytes/--max-layers/--max-params`, through a
context variable that `pipeline` reads for any limit a caller does not pass. So every command that
loads a spec honours them without passing them along.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields

# Far above any real network (the largest torchvision model has a few hundred layers), and low
# enough that the worst spec the defaults accept is checked in about 3 s of CPU.
DEFAULT_MAX_BYTES = 1024 * 1024
DEFAULT_MAX_LAYERS = 10_000
DEFAULT_MAX_PARAMS = 10_000_000_000

# Commands that load specs, so take the limit options.
LIMITED_COMMANDS = frozenset({"check", "summary", "compile", "run", "explain", "graph", "notebook"})


@dataclass(frozen=True)
class Limits:
    """The caps a hostile spec meets before it can exhaust memory or time."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_layers: int = DEFAULT_MAX_LAYERS
    max_params: int = DEFAULT_MAX_PARAMS

    def as_kwargs(self) -> dict[str, int]:
        """The limits as keyword arguments of `pipeline.load`."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


DEFAULTS = Limits()
_CURRENT: ContextVar[Limits | None] = ContextVar("specc_limits", default=None)


def current() -> Limits:
    """The limits in force (the defaults unless a command set others)."""
    return _CURRENT.get() or DEFAULTS


@contextmanager
def using(limits: Limits) -> Iterator[Limits]:
    """Make `limits` the ones in force inside the block."""
    token = _CURRENT.set(limits)
    try:
        yield limits
    finally:
        _CURRENT.reset(token)


_SUFFIXES = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30}
_COUNT = re.compile(r"(\d[\d_]*(?:\.\d+)?(?:e\d+)?)\s*([a-z]*)", re.IGNORECASE)


def count(text: str) -> int:
    """A positive count from the command line: `5000`, `10_000`, `1e9`, `4MiB`, `2M` (argparse type)."""
    match = _COUNT.fullmatch(text.strip())
    suffix = match.group(2).lower() if match else ""
    if not match or suffix not in _SUFFIXES:
        raise argparse.ArgumentTypeError(f"{text!r} is not a count (examples: 5000, 1e9, 4MiB)")
    value = float(match.group(1).replace("_", "")) * _SUFFIXES[suffix]
    if not 1 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1 and below 2**63")
    return int(value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `--max-bytes/--max-layers/--max-params` options of a command that loads specs."""
    group = parser.add_argument_group("limits", "caps that stop hostile or runaway specs early")
    group.add_argument(
        "--max-bytes",
        type=count,
        metavar="N",
        help=f"largest spec file accepted, in bytes (default: {DEFAULT_MAX_BYTES:,}; SPC012)",
    )
    group.add_argument(
        "--max-layers",
        type=count,
        metavar="N",
        help=f"most layers a model may have (default: {DEFAULT_MAX_LAYERS:,}; SPC013)",
    )
    group.add_argument(
        "--max-params",
        type=count,
        metavar="N",
        help=f"most parameters a model may have (default: {DEFAULT_MAX_PARAMS:,}; SPC014)",
    )


def from_args(args: argparse.Namespace) -> Limits:
    """The limits a command line asked for, the defaults for the others."""
    given = {f.name: getattr(args, f.name, None) for f in fields(Limits)}
    return Limits(**{k: v for k, v in given.items() if v is not None})
