"""Property tests: whatever the input, the front end raises only SpeccError, quickly; the CLI never
prints a traceback.

SPECC_PROPERTY_EXAMPLES raises the number of examples per property for a longer local hunt.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specc import pipeline, summary
from specc.diagnostics import SpeccError

ROOT = Path(__file__).parent.parent
SEEDS = sorted((ROOT / "examples").rglob("*.spec")) + sorted(
    (Path(__file__).parent / "corpus").rglob("*.spec")
)
# The corpus' giant literals make mutation slow without finding anything new.
SEED_TEXTS = [p.read_bytes() for p in SEEDS if p.stat().st_size < 8_000]
EXAMPLES = int(os.environ.get("SPECC_PROPERTY_EXAMPLES", "150"))
LIMIT_S = 1.0

PROFILE = settings(
    max_examples=EXAMPLES,
    deadline=None,  # timed below, excluding hypothesis' own overhead
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=not os.environ.get("SPECC_PROPERTY_RANDOM"),
)

# Tokens that reach past the parser: block, layer, setting, function and value words.
VOCAB = [
    "model", "train", "stage", "m", "{", "}", "(", ")", "[", "]", ",", ";", ":", "=", ".",
    "input", "base", "data", "loss", "optimizer", "epochs", "batch_size", "metrics", "seed",
    "unfreeze", "freeze", "all", "last", "Dense", "Conv2D", "Conv1D", "LSTM", "GRU", "Embedding",
    "Reshape", "Flatten", "Dropout", "BatchNormalization", "MaxPooling2D", "Softmax",
    "GlobalAveragePooling2D", "resnet18", "vgg16", "digits", "iris", "synthetic", "csv",
    "image_folder", "Adam", "SGD", "l2", "mse", "binary_crossentropy",
    "sparse_categorical_crossentropy", "relu", "softmax", "same", "valid", "true", "false", "none",
    "units", "activation", "strides", "padding", "kernel_size", "target_shape", "axis", "weights",
    "trainable", "return_sequences", "classes", "image_size", "lr", "0", "1", "-1", "3", "64",
    "0.5", "1e999", "1e-3", "99999999999999999999999999999999", '"x"', '"a.csv"', '"../x"', "#",
    "\n", " ", "\r\n", "\t", "\u2028", "\x00", "\ufeff", "é", '"\u202e"', '"', "\\",
]  # fmt: skip


def _check(data: str | bytes) -> None:
    """The pipeline either returns a Program or raises SpeccError, within the time limit; a
    Program always has a summary for both targets."""
    start = time.perf_counter()
    try:
        program = pipeline.load_text(data)
    except SpeccError as err:
        assert err.diagnostics, "SpeccError without diagnostics"
        for d in err.diagnostics:
            assert d.span.line >= 1 and d.span.column >= 1, d
    else:
        for target in ("torch", "keras"):
            summary.render_text(program, target)
            counts = program.model.counts(target)
            assert counts.trainable >= 0 and counts.non_trainable >= 0
    elapsed = time.perf_counter() - start
    assert elapsed < LIMIT_S, f"{elapsed:.2f} s for {data[:200]!r}"


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    """Build the parser and the pydantic validators once, outside the timed inputs."""
    for seed in SEED_TEXTS:
        try:
            pipeline.load_text(seed)
        except SpeccError:
            pass


@PROFILE
@given(st.text(max_size=400))
def test_arbitrary_text(text: str) -> None:
    _check(text)


@PROFILE
@given(st.binary(max_size=400))
def test_arbitrary_bytes(data: bytes) -> None:
    _check(data)


@PROFILE
@given(st.lists(st.sampled_from(VOCAB), max_size=120))
def test_token_soup(tokens: list[str]) -> None:
    _check(" ".join(tokens))


def _mutate(draw: st.DrawFn, seed: bytes) -> bytes:
    """Delete, duplicate, swap or truncate lines and characters of a seed file, a few times."""
    text = seed.decode("utf-8", errors="replace")
    for _ in range(draw(st.integers(1, 4))):
        lines = text.split("\n")
        op = draw(
            st.sampled_from(
                [
                    "del_line",
                    "dup_line",
                    "swap_lines",
                    "truncate",
                    "del_char",
                    "dup_char",
                    "swap_chars",
                    "insert",
                ]
            )
        )
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        j = draw(st.integers(0, max(len(lines) - 1, 0)))
        k = draw(st.integers(0, max(len(text) - 1, 0)))
        if op == "del_line":
            del lines[i]
        elif op == "dup_line":
            lines.insert(i, lines[i])
        elif op == "swap_lines":
            lines[i], lines[j] = lines[j], lines[i]
        if op in ("del_line", "dup_line", "swap_lines"):
            text = "\n".join(lines)
        elif op == "truncate":
            text = text[:k]
        elif op == "del_char":
            text = text[:k] + text[k + 1 :]
        elif op == "dup_char":
            text = text[: k + 1] + text[k:]
        elif op == "swap_chars":
            text = text[:k] + text[k + 1 : k + 2] + text[k : k + 1] + text[k + 2 :]
        else:
            text = text[:k] + draw(st.sampled_from(VOCAB)) + text[k:]
    return text.encode("utf-8", errors="surrogatepass")


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A seed file (an example or a corpus spec) after a few random edits."""
    return _mutate(draw, draw(st.sampled_from(SEED_TEXTS)))


@settings(PROFILE, max_examples=EXAMPLES * 4)
@given(mutated())
def test_mutated_seeds(data: bytes) -> None:
    _check(data)


def test_seeds_exist() -> None:
    assert any("examples" in str(p) for p in SEEDS) and len(SEED_TEXTS) > 50


NASTY: dict[str, bytes] = {
    "invalid_utf8": b"model m { input: 4 \xff\xfe Dense(1) }",
    "nul": b"model m {\x00}",
    "digits": b"model m { input: (4,) Dense(" + b"9" * 5000 + b") }",
    "parens": b"model m { input: " + b"(" * 20000 + b"4" + b")" * 20000 + b" Dense(1) }",
    "bidi": 'model m { input: 4 Dense(1) } train { data: csv("\u202e", target="y") loss: mse }'.encode(),
    "empty": b"",
    "two_models": b"model a { input: 4 Dense(1) } model b { input: 4 Dense(1) }",
    "binary": bytes(range(256)),
}


@pytest.mark.parametrize("name", sorted(NASTY))
@pytest.mark.parametrize("command", ["check", "summary"])
def test_cli_never_prints_a_traceback(tmp_path: Path, name: str, command: str) -> None:
    path = tmp_path / f"{name}.spec"
    path.write_bytes(NASTY[name])
    args = [sys.executable, "-m", "specc", command, str(path)]
    result = subprocess.run(
        args, capture_output=True, text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"}
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output and "internal error" not in output, output
    assert f"{path}:" in output and " error SPC" in output, output
