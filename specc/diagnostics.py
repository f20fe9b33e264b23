"""Diagnostics as data, the collector stages fill, and the one error type specc raises."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from specc.codes import CODES, Severity
from specc.source import START, Span


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a spec, with where it is and how to fix it."""

    code: str
    message: str
    span: Span = START
    file: str = "<spec>"
    help: str | None = None
    severity: Severity | None = None

    @property
    def level(self) -> Severity:
        """The severity: the one given, else the code's default."""
        return self.severity or CODES[self.code].severity

    @property
    def name(self) -> str:
        """The code's readable name, e.g. shape-mismatch."""
        return CODES[self.code].name

    def with_file(self, file: str) -> Diagnostic:
        """This diagnostic attributed to `file`."""
        return replace(self, file=file)

    def sort_key(self) -> tuple[str, int, int, str]:
        """Order diagnostics by file, then position, then code."""
        return (self.file, self.span.line, self.span.column, self.code)


class SpeccError(Exception):
    """The one exception type that leaves the specc library: it carries diagnostics."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        super().__init__("\n".join(f"{d.code}: {d.message}" for d in self.diagnostics))


@dataclass
class Collector:
    """Gathers the diagnostics of a stage so that all of them are reported in one run."""

    file: str = "<spec>"
    items: list[Diagnostic] = field(default_factory=list)

    def add(
        self,
        code: str,
        message: str,
        span: Span | None = None,
        help: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        """Record one diagnostic."""
        self.items.append(Diagnostic(code, message, span or START, self.file, help, severity))

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        """Record several diagnostics."""
        self.items.extend(d.with_file(self.file) for d in diagnostics)

    @property
    def has_errors(self) -> bool:
        """Whether any recorded diagnostic is an error."""
        return any(d.level is Severity.ERROR for d in self.items)

    def raise_if_errors(self) -> None:
        """Stop the pipeline between stages when this stage found errors."""
        if self.has_errors:
            raise SpeccError(self.items)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A 'did you mean X?' hint for a misspelled word, or None when nothing is close."""
    import difflib  # only on an error path: keeps it out of every clean run's start-up

    options = list(choices)
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return f"did you mean `{lowered[word.lower()]}`?"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        close = [lowered[c] for c in close]
    return f"did you mean `{close[0]}`?" if close else None


def choices_hint(word: str, choices: Iterable[str], kind: str) -> str:
    """A did-you-mean hint, or the list of valid choices when nothing is close."""
    options = sorted(set(choices))
    hint = did_you_mean(word, options)
    if hint:
        return hint
    shown = ", ".join(options[:12]) + (", ..." if len(options) > 12 else "")
    return f"valid {kind}: {shown}"
