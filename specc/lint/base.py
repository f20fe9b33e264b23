"""The lint rule base: a rule's code row and documentation, and the findings its check yields."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from specc.codes import Code, Severity, register
from specc.source import Span

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem a rule found: what, where, and how to fix it (the runner adds code and file)."""

    message: str
    span: Span
    help: str | None = None


@dataclass(frozen=True)
class Rule:
    """A lint rule: its row in the code table and its documentation sections."""

    code: Code
    finds: str
    why: str
    bad: str
    fix: str
    good: str = ""
    check: Callable[..., Iterable[Finding]] | None = field(default=None, compare=False)

    @property
    def id(self) -> str:
        return self.code.code

    @property
    def name(self) -> str:
        return self.code.name

    @property
    def severity(self) -> Severity:
        return self.code.severity

    def __call__(self, check: Callable[..., Iterable[Finding]]) -> Callable[..., Iterable[Finding]]:
        """Decorator: attach the check function (the rule module's `check`)."""
        object.__setattr__(self, "check", check)
        return check


def explanation(finds: str, why: str, bad: str, fix: str, good: str = "") -> str:
    """The documentation sections as one Markdown text (the code table's `explanation`)."""
    parts = [f"**What it finds.** {finds}", f"**Why it matters.** {why}"]
    parts.append(f"**Example.**\n\n```\n{bad.strip()}\n```")
    parts.append(f"**Fix.** {fix}")
    if good:
        parts.append(f"```\n{good.strip()}\n```")
    return "\n\n".join(parts)


def rule(
    code: str,
    name: str,
    severity: Severity,
    summary: str,
    *,
    finds: str,
    why: str,
    bad: str,
    fix: str,
    good: str = "",
) -> Rule:
    """Register a lint code in the one code table and return the rule carrying its docs."""
    row = register(Code(code, name, severity, summary, explanation(finds, why, bad, fix, good)))
    return Rule(row, finds, why, bad.strip("\n"), fix, good.strip("\n"))
