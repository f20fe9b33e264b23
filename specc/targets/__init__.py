"""Code generation targets: one module per framework, dispatched by name."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

# target name -> module in specc.targets; a new target is one module and one row here.
TARGETS: dict[str, str] = {"torch": "torch", "keras": "keras"}


def target(name: str) -> ModuleType:
    """The module of a target: `emit(program, options) -> str`, `check(program) -> diagnostics`."""
    return import_module(f"specc.targets.{TARGETS[name]}")
