"""The linter: rules over a Program that passed the front end, with selection and suppression.

A new rule is one module in `specc.lint.rules` that defines `RULE = rule(...)` (its row in the
code table and its documentation) and decorates its check function with `@RULE`.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import import_module
from pkgutil import iter_modules
from typing import TYPE_CHECKING

from specc.diagnostics import Diagnostic
from specc.ir import Program
from specc.lint.base import Rule

if TYPE_CHECKING:
    from specc.config import Selection


@lru_cache(maxsize=1)
def all_rules() -> tuple[Rule, ...]:
    """Every lint rule, ordered by code; importing a rule module registers its code."""
    from specc.lint import rules as package

    found = []
    for info in iter_modules(package.__path__):
        module = import_module(f"{package.__name__}.{info.name}")
        found.append(module.RULE)
    return tuple(sorted(found, key=lambda r: r.id))


@lru_cache(maxsize=1)
def rule_codes() -> frozenset[str]:
    """The codes of every lint rule."""
    return frozenset(r.id for r in all_rules())


def lint(program: Program, selection: Selection | None = None) -> list[Diagnostic]:
    """Run the selected rules, apply suppression comments, and report unused suppressions."""
    from specc.config import Selection
    from specc.lint.suppress import apply

    chosen = selection or Selection.default()
    file = program.file
    found: list[Diagnostic] = []
    for r in chosen.active(all_rules()):
        severity = chosen.severity(r.id)
        for f in r.check(program):  # type: ignore[misc]
            found.append(Diagnostic(r.id, f.message, f.span, file, f.help, severity))
    kept = apply(program.spec.source, found, chosen)
    return sorted(kept, key=Diagnostic.sort_key)
