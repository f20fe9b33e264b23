"""Lint configuration: `[tool.specc]` in the nearest pyproject.toml, merged with the command line.

```toml
[tool.specc]
select = ["ALL"]                 # codes, prefixes (SPC43), rule names, or ALL (the default)
ignore = ["SPC412", "learning-rate-too-low"]

[tool.specc.severity]
SPC405 = "error"                 # error, warning, info, or off
```

The file is found by walking up from each spec's folder; the first pyproject.toml with a
`[tool.specc]` table wins (as ruff finds `[tool.ruff]`). On the command line `--select`
replaces the file's `select` and `--ignore` adds to its `ignore`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from specc.codes import BY_NAME, CODES, Severity

if TYPE_CHECKING:
    from specc.lint.base import Rule

OFF = "off"
_LEVELS = {s.value: s for s in Severity}


class ConfigError(Exception):
    """A mistake in the configuration or a selection flag (a usage error, exit code 2)."""


@dataclass(frozen=True)
class Config:
    """The `[tool.specc]` table of one pyproject.toml (or the defaults)."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    @property
    def where(self) -> str:
        return str(self.path) if self.path else "the defaults"


def _strings(value: object, key: str, path: Path) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: [tool.specc] {key} must be a list of strings")
    return tuple(value)


def parse(path: Path) -> Config | None:
    """The `[tool.specc]` table of a pyproject.toml, or None when it has none."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read: {err}") from None
    if "specc" not in text:
        return None  # no [tool.specc] table: skip importing and running the TOML parser
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None
    table = data.get("tool", {}).get("specc") if isinstance(data.get("tool"), dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.specc] must be a table")
    unknown = sorted(set(table) - {"select", "ignore", "severity"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown [tool.specc] key `{unknown[0]}` (known: select, ignore, severity)"
        )
    severity = table.get("severity", {})
    if not isinstance(severity, dict) or not all(isinstance(v, str) for v in severity.values()):
        raise ConfigError(f'{path}: [tool.specc.severity] maps codes to "error", "warning", "info" or "off"')
    return Config(
        _strings(table["select"], "select", path) if "select" in table else None,
        _strings(table.get("ignore", []), "ignore", path),
        dict(severity),
        path,
    )


@lru_cache(maxsize=256)
def _find_in(folder: Path) -> Config:
    candidate = folder / "pyproject.toml"
    if candidate.is_file():
        found = parse(candidate)
        if found is not None:
            return found
    if folder.parent == folder:
        return Config()
    return _find_in(folder.parent)


def find(spec: Path) -> Config:
    """The configuration for a spec: the nearest pyproject.toml with [tool.specc], else defaults."""
    return _find_in(spec.resolve().parent)


def expand(pattern: str, codes: Iterable[str], origin: str) -> set[str]:
    """The lint codes a pattern means: ALL, a code, a code prefix or a rule name."""
    universe = sorted(codes)
    text = pattern.strip()
    if text.upper() == "ALL":
        return set(universe)
    if text.lower() in BY_NAME:
        text = BY_NAME[text.lower()].code
    matched = {c for c in universe if c.startswith(text.upper())}
    if matched:
        return matched
    if text.upper() in CODES:
        raise ConfigError(
            f"{origin}: {text.upper()} is a front-end check, not a lint rule; it cannot be selected"
        )
    from specc.diagnostics import did_you_mean

    hint = did_you_mean(text, [*universe, *(CODES[c].name for c in universe)])
    raise ConfigError(f"{origin}: `{text}` matches no lint rule" + (f"; {hint}" if hint else ""))


@dataclass(frozen=True)
class Selection:
    """Which lint rules run and at what severity."""

    codes: frozenset[str]
    levels: dict[str, Severity] = field(default_factory=dict)
    _active: dict[int, tuple[Rule, ...]] = field(default_factory=dict, repr=False, compare=False)

    def active(self, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
        """The rules with a check that this selection runs, in order (computed once)."""
        key = id(rules)
        cached = self._active.get(key)
        if cached is None:
            cached = self._active[key] = tuple(r for r in rules if r.check is not None and r.id in self.codes)
        return cached

    def enabled(self, code: str) -> bool:
        return code in self.codes

    def severity(self, code: str) -> Severity | None:
        """The configured severity, or None for the rule's default."""
        return self.levels.get(code)

    @classmethod
    def default(cls) -> Selection:
        """Every rule at its default severity (one shared instance)."""
        return _default()


@lru_cache(maxsize=1)
def _default() -> Selection:
    from specc.lint import rule_codes

    return Selection(rule_codes())


def split(values: Sequence[str] | None) -> tuple[str, ...] | None:
    """Command-line values, each possibly comma-separated, as one tuple (None when not given)."""
    if values is None:
        return None
    return tuple(p.strip() for v in values for p in v.split(",") if p.strip())


def resolve(config: Config, select: Sequence[str] | None = None, ignore: Sequence[str] = ()) -> Selection:
    """The selection for one spec: the file's settings, then the command line's."""
    from specc.lint import rule_codes

    universe = rule_codes()
    chosen: set[str] = set()
    patterns = select if select is not None else config.select
    if patterns is None:
        chosen = set(universe)
    else:
        origin = "--select" if select is not None else config.where
        for p in patterns:
            chosen |= expand(p, universe, origin)
    for p in config.ignore:
        chosen -= expand(p, universe, config.where)
    for p in ignore:
        chosen -= expand(p, universe, "--ignore")
    levels: dict[str, Severity] = {}
    for key, level in config.severity.items():
        if level.lower() not in (*_LEVELS, OFF):
            raise ConfigError(
                f'{config.where}: severity of {key} must be "error", "warning", "info" or "off"'
            )
        for code in expand(key, universe, config.where):
            if level.lower() == OFF:
                chosen.discard(code)
            else:
                levels[code] = _LEVELS[level.lower()]
    return Selection(frozenset(chosen), levels)
