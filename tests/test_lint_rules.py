"""Every lint rule has a fixture that triggers it exactly where marked and a near-miss that does not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from specc import pipeline
from specc.diagnostics import SpeccError
from specc.lint import all_rules, lint

FIXTURES = Path(__file__).parent / "lint"
EXPECT = re.compile(r"#\s*expect:\s*(SPC\d+(?:\s*,\s*SPC\d+)*)")
CODES = [r.id for r in all_rules()]


def expected(path: Path) -> dict[int, set[str]]:
    """Line -> codes named by `# expect: CODE` markers."""
    marks: dict[int, set[str]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            marks[number] = {c.strip() for c in match.group(1).split(",")}
    return marks


def found(path: Path, code: str) -> dict[int, set[str]]:
    """Line -> {code} for each diagnostic of `code` that lint reports on the fixture."""
    try:
        program = pipeline.load(path)
    except SpeccError as err:  # a fixture must pass the front end, or it tests nothing
        pytest.fail(f"{path.name} fails the front end: {err}")
    lines: dict[int, set[str]] = {}
    for diag in lint(program):
        if diag.code == code:
            lines.setdefault(diag.span.line, set()).add(code)
    return lines


def test_at_least_25_rules() -> None:
    assert len(CODES) >= 25
    assert all(re.fullmatch(r"SPC4\d\d", c) for c in CODES)


@pytest.mark.parametrize("code", CODES)
def test_rule_triggers_where_marked(code: str) -> None:
    path = FIXTURES / f"{code}_bad.spec"
    marks = {line: {code} for line, codes in expected(path).items() if code in codes}
    assert marks, f"{path.name} marks no line with `# expect: {code}`"
    assert found(path, code) == marks


@pytest.mark.parametrize("code", CODES)
def test_near_miss_is_clean(code: str) -> None:
    path = FIXTURES / f"{code}_ok.spec"
    assert found(path, code) == {}


def test_every_fixture_belongs_to_a_rule() -> None:
    names = {p.stem for p in FIXTURES.glob("*.spec")}
    assert names == {f"{c}_{kind}" for c in CODES for kind in ("bad", "ok")}


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.id)
def test_rule_documentation(rule: object) -> None:
    """Each rule documents what it finds, why, a bad example and the fix, and has a check."""
    from specc.lint.base import Rule

    assert isinstance(rule, Rule)
    assert rule.finds and rule.why and rule.bad.strip() and rule.fix
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
    assert rule.check is not None or rule.id == "SPC400"
