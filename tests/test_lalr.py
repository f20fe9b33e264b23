"""The fast parse path (lark's table driven directly, specc/lalr.py) reads exactly what lark reads.

parse() runs lark's LALR table over its own regex lexer and falls back to lark's parser for any
text the fast path refuses. These tests hold the two to the same tokens, blocks and diagnostics
on the examples, the corpus, grammar-generated files and mutants of the seeds, so a lark upgrade
that changed its tables or its lexing would fail here instead of misreading specs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark.exceptions import UnexpectedInput
from test_properties import SEED_TEXTS, mutated

from specc import lalr, lower, parse
from specc.diagnostics import SpeccError
from specc.source import Source

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "examples").rglob("*.spec")) + sorted((ROOT / "tests" / "corpus").rglob("*.spec"))
TERMINALS = {
    "NAME": st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
    "NUMBER": st.from_regex(r"-?(\d{1,4}\.\d{0,3}|\.\d{1,3}|\d{1,5})([eE][+-]?\d{1,2})?", fullmatch=True),
    "STRING": st.from_regex(r'"[a-z ./_é]{0,10}"', fullmatch=True),
    "COMMENT": st.sampled_from(["# note\n", "#\n"]),
    "WS": st.sampled_from([" ", "\t"]),
    "NEWLINE": st.just("\n"),
}
CHECKS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def outcome(text: str) -> tuple[str, object]:
    """What parse + lower make of a text: its blocks, or its diagnostics."""
    source = Source("t.spec", text)
    try:
        return "blocks", parse.parse(source)
    except SpeccError as err:
        return "diagnostics", err.diagnostics


def through_lark(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, object]:
    """The same, with the fast lexer refusing everything: lark parses, its tokens are replayed."""

    def refuse(self: lalr.Machine, text: str) -> object:
        raise lalr.Rejected("forced")

    with monkeypatch.context() as patch:
        patch.setattr(lalr.Machine, "lexemes", refuse)
        return outcome(text)


def same_tokens(text: str) -> None:
    """On a text lark accepts, the fast lexer yields lark's tokens, in order, at the same places."""
    try:
        tree = parse.parser().parse(text)
    except UnexpectedInput:
        return  # unpadded generated tokens can run together: lark's own error path, compared below
    assert list(parse._machine().lexemes(text)) == list(parse._leaves(tree))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_files_read_the_same_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    assert outcome(text) == through_lark(text, monkeypatch)


@CHECKS
@given(from_lark(parse.parser(), start="start", explicit=TERMINALS))
def test_grammar_generated_files(text: str) -> None:
    same_tokens(text)
    with pytest.MonkeyPatch.context() as patch:
        assert outcome(text) == through_lark(text, patch)


@CHECKS
@given(mutated())
def test_mutated_seeds(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    with pytest.MonkeyPatch.context() as patch:
        assert outcome(text) == through_lark(text, patch)


def test_the_fast_path_reads_every_valid_seed() -> None:
    """The fast path is really taken: no valid seed falls back to lark."""
    machine = parse._machine()
    read = 0
    for data in SEED_TEXTS:
        text = data.decode("utf-8-sig", errors="replace")
        try:
            parse.parser().parse(text)
        except UnexpectedInput:
            continue  # an invalid seed: lark's own error path
        machine.run(machine.lexemes(text), lower.Builder(parse.Collector("t.spec")))
        read += 1
    assert read > 40
