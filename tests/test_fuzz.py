"""Fuzzing the front end and the targets: whatever the input, only SpeccError, fast, and safe programs.

Three generators: the project's own lark grammar (`hypothesis.extra.lark`, with the vocabulary of
real names so inputs get past the parser), a structured generator of plausible specs (so many are
valid and reach both targets), and raw bytes. Mutations of the examples and text/token soups are the
front end's property tests (tests/test_properties.py). Bounded for CI; SPECC_FUZZ_EXAMPLES=N runs N per test.
"""

from __future__ import annotations

import ast
import os
import time
from importlib import util

import pytest
from audit import assert_audited
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from specc import pipeline
from specc.backbones import BACKBONES
from specc.callable import ACTIVATIONS
from specc.data import DATA
from specc.diagnostics import SpeccError
from specc.ir import Program
from specc.layers import LAYERS
from specc.losses import LOSSES
from specc.optimizers import OPTIMIZERS
from specc.parse import parser
from specc.regularizers import REGULARIZERS

EXAMPLES = int(os.environ.get("SPECC_FUZZ_EXAMPLES", "0"))
# The issue's bound: no input may take the front end more than a second.
PER_INPUT_SECONDS = 1.0


def fuzz_settings(examples: int) -> settings:
    """Bounded settings; the deadline is enforced by `load_only_spec_errors` on the front end alone."""
    return settings(
        max_examples=EXAMPLES or examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )


def load_only_spec_errors(text: str | bytes) -> Program | None:
    """Load a spec: the IR, or None after a SpeccError; any other exception or a slow load fails."""
    start = time.perf_counter()
    try:
        program = pipeline.load_text(text, "fuzz.spec")
    except SpeccError as err:
        assert err.diagnostics, "SpeccError without diagnostics"
        for diagnostic in err.diagnostics:
            assert diagnostic.code.startswith("SPC") and diagnostic.message
        program = None
    elapsed = time.perf_counter() - start
    assert elapsed < PER_INPUT_SECONDS, f"the front end took {elapsed:.2f}s on this input"
    return program


def _fields(registry_entries: object) -> set[str]:
    """Every parameter name of every class in a registry."""
    return {name for cls in registry_entries.values() for name in cls.model_fields}  # type: ignore[attr-defined]


REGISTRIES = (LAYERS, DATA, LOSSES, OPTIMIZERS, REGULARIZERS, BACKBONES)
VOCABULARY = sorted(
    {"model", "train", "stage", "input", "base", "unfreeze", "freeze", "last", "all", "none", "true", "false"}
    | {"data", "loss", "optimizer", "epochs", "batch_size", "metrics", "seed", "compile", "precision"}
    | {"accuracy", "mae", "mse", "same", "valid", "imagenet", "fp32", "bf16", "fp16", "lr", "x", "head"}
    | set(ACTIVATIONS)
    | {name for registry in REGISTRIES for name in registry.names()}
    | {name for registry in REGISTRIES for name in _fields(registry.entries)}
)
NAMES = st.one_of(st.sampled_from(VOCABULARY), st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True))
NUMBERS = st.one_of(
    st.sampled_from(["0", "1", "2", "3", "8", "10", "32", "64", "128", "0.5", "0.2", "1e-3", "-1", "1e400"]),
    st.from_regex(r"-?(\d{1,40}\.\d{0,5}|\.\d{1,5}|\d{1,40})([eE][+-]?\d{1,4})?", fullmatch=True),
)


def _quote(text: str) -> str:
    """A spec string literal (escapes quotes and backslashes; newlines would end the token)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


STRINGS = st.one_of(
    st.sampled_from(["data.csv", "y", "imgs", "w.pt", "", "a/../b", "/etc/passwd", "~/x", "C:\\x"]),
    st.text(max_size=12),
).map(_quote)

# Terminals drawn from real vocabulary; separators padded so adjacent tokens never merge.
TERMINALS = {
    "NAME": NAMES.map(lambda n: f" {n} "),
    "NUMBER": NUMBERS.map(lambda n: f" {n} "),
    "STRING": STRINGS,
    "COMMENT": st.sampled_from(["# note\n", "#\n", "# ünïcode\n"]),
    "WS": st.sampled_from([" ", "\t", "\r", "\ufeff"]),
    "NEWLINE": st.just("\n"),
}
GRAMMAR_FILES = from_lark(parser(), start="start", explicit=TERMINALS)
STATEMENTS = from_lark(parser(), start="statement", explicit=TERMINALS)


@st.composite
def framed(draw: st.DrawFn) -> str:
    """Grammar-generated statements inside real `model` and `train` blocks, so validation is reached."""
    model = draw(st.lists(STATEMENTS, max_size=5))
    train = draw(st.lists(STATEMENTS, max_size=4))
    text = "model m {\n    input: (64,)\n" + "\n".join(model) + "\n}\n"
    if draw(st.booleans()):
        text += "train {\n" + "\n".join(train) + "\n}\n"
    return text


def _layer(draw: st.DrawFn, rank: int) -> str:
    """One plausible layer call for an input of the given rank (sometimes a wrong one on purpose)."""
    small = st.integers(min_value=1, max_value=16)
    act = st.sampled_from(ACTIVATIONS)
    kind = draw(st.sampled_from(["dense", "conv", "pool", "norm", "misc", "rnn", "flatten", "bad"]))
    if kind == "flatten" or (kind == "dense" and rank > 1 and draw(st.booleans())):
        return "Flatten()"
    if kind == "dense":
        reg = draw(st.sampled_from(["", ", kernel_regularizer=l2(1e-4)", ", bias_regularizer=l1(0.01)"]))
        return f"Dense({draw(small)}, activation={draw(act)}{reg})"
    if kind == "conv":
        dims = "2D" if rank == 3 else "1D"
        size = "(3, 3)" if dims == "2D" and draw(st.booleans()) else str(draw(st.integers(1, 3)))
        pad = draw(st.sampled_from(["valid", "same"]))
        return f"Conv{dims}({draw(small)}, {size}, strides={draw(st.integers(1, 2))}, padding={pad})"
    if kind == "pool":
        dims = "2D" if rank == 3 else "1D"
        return draw(
            st.sampled_from(
                [f"MaxPooling{dims}(2)", f"GlobalAveragePooling{dims}()", f"AveragePooling{dims}(2)"]
            )
        )
    if kind == "norm":
        return draw(st.sampled_from(["BatchNormalization()", "LayerNormalization(epsilon=1e-5)"]))
    if kind == "rnn":
        cell = draw(st.sampled_from(["SimpleRNN", "LSTM", "GRU"]))
        return f"{cell}({draw(small)}, return_sequences={draw(st.sampled_from(['true', 'false']))})"
    if kind == "misc":
        return draw(
            st.sampled_from(
                [
                    "Dropout(0.25)",
                    "ReLU()",
                    "Activation(tanh)",
                    "Softmax()",
                    "Sigmoid()",
                    "Dense(4, trainable=false)",
                ]
            )
        )
    return draw(st.sampled_from(["Dense(0)", "Dropout(1.5)", "Conv2D(4)", "Nope()", "Reshape((7, 7))"]))


# Data sources that fit each input shape, with their classes (None: a regression target).
FITTING_DATA: dict[str, list[tuple[str, int | None]]] = {
    "(64,)": [("digits()", 10), ('csv("d.csv", target="y")', 3), ("synthetic(samples=64)", None)],
    "(8, 8, 1)": [("digits(validation_split=0.3)", 10), ('npz("d.npz")', 4)],
    "(12, 4)": [("synthetic(samples=32, classes=4)", 4), ("synthetic(samples=32)", None)],
    "(4,)": [("iris()", 3), ("iris(standardize=false)", 3)],
    "(13,)": [("wine()", 3)],
    "(30,)": [("breast_cancer()", 2)],
    "(10,)": [("diabetes()", None)],
    "(16, 16, 3)": [
        ('image_folder("imgs", image_size=(16, 16))', 2),
        ("synthetic(samples=16, classes=2)", 2),
    ],
    "(40, 40, 3)": [('image_folder("imgs", image_size=40)', 3), ("synthetic(samples=16)", None)],
}


def _head_and_loss(draw: st.DrawFn, classes: int | None) -> tuple[str, str, str]:
    """An output layer, a loss and metrics that fit the data's classes (or a regression target)."""
    if classes is None:
        loss = draw(st.sampled_from(["mse", "mae", "huber", "mean_squared_error"]))
        return "Dense(1)", loss, draw(st.sampled_from(["[mae]", "[mse, mae]", "[]"]))
    forms = [
        (f"Dense({classes}, activation=softmax)", "sparse_categorical_crossentropy"),
        (f"Dense({classes}, activation=softmax)", "categorical_crossentropy(label_smoothing=0.1)"),
        (f"Dense({classes})", "sparse_categorical_crossentropy(from_logits=true)"),
        (f"Dense({classes})", "categorical_crossentropy(from_logits=true)"),
    ]
    if classes == 2:
        forms += [
            ("Dense(1, activation=sigmoid)", "binary_crossentropy"),
            ("Dense(1)", "binary_crossentropy(from_logits=true)"),
        ]
    head, loss = draw(st.sampled_from(forms))
    return head, loss, draw(st.sampled_from(["[accuracy]", "[]"]))


@st.composite
def structured(draw: st.DrawFn) -> str:
    """A plausible whole spec: mostly consistent (so it reaches both targets), sometimes a random mix."""
    consistent = draw(st.integers(0, 4)) > 0
    shape = draw(st.sampled_from(sorted(FITTING_DATA)))
    rank = shape.count(",") + (0 if shape.endswith(",)") else 1)
    lines = [f"model {draw(NAMES.filter(str.isidentifier))} {{", f"    input: {shape}"]
    if shape == "(40, 40, 3)" and draw(st.booleans()):
        lines.append(f"    base: {draw(st.sampled_from(BACKBONES.names()))}(weights=none, trainable=false)")
    for index in range(draw(st.integers(0, 4))):
        name = f"l{index} = " if draw(st.booleans()) else ""
        layer = _layer(draw, rank)
        if consistent and ("RNN" in layer or "LSTM" in layer or "GRU" in layer) and rank != 2:
            continue
        if consistent and layer in ("Dense(0)", "Dropout(1.5)", "Conv2D(4)", "Nope()", "Reshape((7, 7))"):
            continue
        lines.append(f"    {name}{layer}")
    data, classes = draw(st.sampled_from(FITTING_DATA[shape]))
    head, loss, metrics = _head_and_loss(draw, classes)
    if not consistent:
        data = draw(
            st.sampled_from(
                [d for options in FITTING_DATA.values() for d, _ in options] + ['csv("../x.csv", target="y")']
            )
        )
        head = draw(
            st.sampled_from(
                ["Dense(10, activation=softmax)", "Dense(1)", "Dense(3)", "Dense(2, activation=sigmoid)"]
            )
        )
        loss = draw(st.sampled_from(LOSSES.names() + ["categorical_crossentropy(from_logits=true)"]))
    flatten = rank > 1 and (consistent or draw(st.booleans()))
    lines += ["    Flatten()" if flatten else "", f"    out = {head}", "}"]
    if draw(st.integers(0, 9)) > 0:
        optimizer = draw(
            st.sampled_from(["Adam()", "SGD(0.1, momentum=0.9)", "RMSprop()", "AdamW(weight_decay=0.01)"])
        )
        lines += ["train {", f"    data: {data}", f"    loss: {loss}", f"    optimizer: {optimizer}"]
        lines += [f"    epochs: {draw(st.integers(1, 3))}", f"    metrics: {metrics}"]
        if draw(st.booleans()):
            lines += ["    stage tune {", "        freeze: [out]", "        epochs: 1", "    }"]
        lines.append("}")
    return "\n".join(lines) + "\n"


def _available_targets() -> list[str]:
    """Targets whose generator module exists in this checkout."""
    return [name for name in ("torch", "keras") if util.find_spec(f"specc.targets.{name}") is not None]


def compile_all_targets(program: Program) -> int:
    """Emit the program for every target that accepts it; each must parse and pass the audit."""
    from specc.targets import target
    from specc.targets.base import EmitOptions

    emitted = 0
    for name in _available_targets():
        module = target(name)
        if module.check(program):
            continue
        code = module.emit(program, EmitOptions())
        ast.parse(code)
        assert_audited(code)
        emitted += 1
    return emitted


@fuzz_settings(60)
@given(GRAMMAR_FILES)
def test_grammar_generated_files_give_only_diagnostics(text: str) -> None:
    """Any sentence of the grammar: a Program or SpeccError, within the time bound."""
    load_only_spec_errors(text)


@fuzz_settings(60)
@given(framed())
def test_grammar_generated_statements_in_real_blocks(text: str) -> None:
    """Grammar statements inside model/train blocks reach validation and shapes; still only SpeccError."""
    load_only_spec_errors(text)


@fuzz_settings(150)
@given(structured())
def test_structured_specs_reach_the_targets(text: str) -> None:
    """Plausible specs: the front end never crashes, and every valid one compiles to safe Python."""
    program = load_only_spec_errors(text)
    if program is not None and program.train is not None and _available_targets():
        compile_all_targets(program)


@fuzz_settings(100)
@given(st.binary(max_size=3000))
def test_random_bytes(data: bytes) -> None:
    """Arbitrary bytes (binary, invalid UTF-8, NULs) give diagnostics."""
    load_only_spec_errors(data)


def test_the_structured_generator_reaches_valid_programs() -> None:
    """Guard against a generator that silently stops producing valid specs (then the target fuzz is void)."""
    valid = []

    @settings(max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(structured())
    def collect(text: str) -> None:
        program = load_only_spec_errors(text)
        if program is not None and program.train is not None:
            valid.append(program)

    collect()
    assert len(valid) >= 20, f"only {len(valid)} of 80 structured specs were valid"


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_deep_nesting_is_rejected_fast(depth: int) -> None:
    """Brackets nested past the limit: SPC010 quickly, never a RecursionError."""
    text = "model m {\n input: " + "(" * depth + "1" + ")" * depth + "\n Dense(1)\n}\n"
    with pytest.raises(SpeccError) as err:
        pipeline.load_text(text)
    assert err.value.diagnostics[0].code == "SPC010"
