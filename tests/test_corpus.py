"""Data-driven corpus: valid specs match their expected summaries, invalid specs their expected diagnostics.

Invalid specs carry their expectations in comment lines (or in a sibling `.expect` file when the
spec itself cannot hold a comment, such as the empty file):

    # expect: SPC201 7:5 "optional text found in the message or help"
    # options: max_layers=2          (limits passed to the pipeline)
    # target: keras                  (also run that target's compile checks)

Valid specs have a sibling `.json` holding `specc summary --format json` for both targets.
Regenerate those (after checking the change is right) with SPECC_REGEN_CORPUS=1.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

import pytest

from specc import pipeline, summary
from specc.codes import CODES
from specc.diagnostics import Diagnostic, SpeccError
from specc.parse import decode
from specc.render import FORMATS, renderer

CORPUS = Path(__file__).parent / "corpus"
VALID = sorted((CORPUS / "valid").glob("*.spec"))
INVALID = sorted((CORPUS / "invalid").glob("*.spec"))
_HEADER = re.compile(r"^\ufeff?#\s*(expect|options|target):(.*)$")
_EXPECT = re.compile(r'^\s*(SPC\d{3})(?:\s+(\d+):(\d+))?(?:\s+"(.*)")?\s*$')


@dataclass
class Expectation:
    """What one invalid corpus file must produce."""

    diagnostics: list[tuple[str, int | None, int | None, str | None]] = field(default_factory=list)
    limits: dict[str, int] = field(default_factory=dict)
    targets: list[str] = field(default_factory=list)


def expectation(path: Path) -> Expectation:
    """Read the `# expect:` / `# options:` / `# target:` lines of a corpus file (or its .expect)."""
    sidecar = path.with_suffix(".expect")
    raw = sidecar.read_bytes() if sidecar.exists() else path.read_bytes()
    text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    result = Expectation()
    for line in text.split("\n"):
        match = _HEADER.match(line)
        if not match:
            continue
        kind, rest = match.groups()
        if kind == "expect":
            item = _EXPECT.match(rest)
            assert item, f"{path.name}: malformed expect line {line!r}"
            code, ln, col, needle = item.groups()
            result.diagnostics.append((code, int(ln) if ln else None, int(col) if col else None, needle))
        elif kind == "options":
            for pair in rest.split():
                key, value = pair.split("=")
                result.limits[key] = int(value)
        else:
            result.targets.extend(rest.split())
    assert result.diagnostics, f"{path.name}: no `# expect:` line"
    return result


def diagnostics_of(path: Path, expected: Expectation) -> list[Diagnostic]:
    """The diagnostics the front end (and any named target's compile checks) report for a file."""
    try:
        program = pipeline.load(path, **expected.limits)
    except SpeccError as err:
        return err.diagnostics
    found: list[Diagnostic] = []
    for name in expected.targets:
        try:
            module = import_module(f"specc.targets.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"specc.targets.{name}":
                pytest.skip(f"the {name} target is not written yet")
            raise
        found.extend(module.check(program))
    return found


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_spec_reports_expected_diagnostics(path: Path) -> None:
    expected = expectation(path)
    found = diagnostics_of(path, expected)
    actual = Counter((d.code, d.span.line, d.span.column) for d in found)
    wanted = Counter((code, ln, col) for code, ln, col, _ in expected.diagnostics)
    shown = "\n".join(f"  {d.code} {d.span.line}:{d.span.column} {d.message} (help: {d.help})" for d in found)
    assert actual == wanted, f"{path.name}: diagnostics differ; got\n{shown}"
    for code, ln, col, needle in expected.diagnostics:
        if needle is None:
            continue
        texts = [
            f"{d.message} {d.help}" for d in found if (d.code, d.span.line, d.span.column) == (code, ln, col)
        ]
        assert any(needle in t for t in texts), f"{path.name}: {needle!r} not in {texts}"
    for d in found:
        assert d.span.end_line > d.span.line or d.span.end_column > d.span.column, d
        assert d.file == str(path)


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_spec_renders_in_every_format(path: Path) -> None:
    """Every renderer copes with every corpus diagnostic (odd characters, positions past the line)."""
    found = diagnostics_of(path, expectation(path))
    try:
        sources = {str(path): decode(path.read_bytes(), str(path), path)}
    except SpeccError:
        sources = {}
    for name in FORMATS:
        for color in (False, True):
            text = renderer(name)(found, sources, color)
            assert found[0].code in text


def test_corpus_covers_every_front_end_code() -> None:
    """Each SPC0xx-SPC3xx code has at least one invalid corpus file (SPC015, an unreadable path, is
    tested in test_frontend)."""
    covered = {code for path in INVALID for code, *_ in expectation(path).diagnostics}
    wanted = {c for c in CODES if re.fullmatch(r"SPC[0-3]\d\d", c)} - {"SPC015"}
    assert wanted - covered == set()


def _summaries(path: Path) -> dict[str, object]:
    program = pipeline.load(path)
    return {target: summary.as_dict(program, target) for target in ("torch", "keras")}


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_spec_matches_expected_summary(path: Path) -> None:
    actual = _summaries(path)
    expected_file = path.with_suffix(".json")
    if os.environ.get("SPECC_REGEN_CORPUS"):
        expected_file.write_text(json.dumps(actual, indent=1) + "\n", encoding="utf-8")
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    assert actual == expected


def test_examples_are_valid() -> None:
    """Every bundled example passes the front end."""
    examples = sorted((Path(__file__).parent.parent / "examples").rglob("*.spec"))
    assert examples
    for path in examples:
        pipeline.load(path)


def test_cli_reports_the_whole_invalid_corpus_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    """One `specc check --format json` over the folder: exit 1, and every file's errors are there."""
    from specc import cli

    assert cli.main(["check", "--format", "json", "--no-lint", str(CORPUS / "invalid")]) == 1
    document = json.loads(capsys.readouterr().out)
    files = {Path(d["file"]).name for d in document["diagnostics"] if d["severity"] == "error"}
    # Files that need a target's compile checks or lowered limits pass `specc check` as it is.
    front_end = {p.name for p in INVALID if not expectation(p).targets and not expectation(p).limits}
    assert front_end <= files
