"""Injection-proof generation: spec names and strings reach generated programs only as string data.

Every example compiles, for every target that accepts it, to a program that passes the AST audit
with its names replaced by markers (so any name used as code is caught). Payloads (quotes,
triple quotes, backslashes, templates, code) in every string field and name position are either
rejected with a diagnostic or end up verbatim inside string constants. `literal()` round-trips
arbitrary nested values through `ast.literal_eval`.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
from audit import assert_audited, audit, renamed
from hypothesis import given, settings
from hypothesis import strategies as st

from specc import pipeline
from specc.diagnostics import SpeccError
from specc.ir import Program
from specc.targets import TARGETS, target
from specc.targets.base import EmitOptions
from specc.targets.literal import literal

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.spec"))
GOLDEN = sorted((ROOT / "tests" / "golden").rglob("*.py"))


def emit(program: Program, name: str, teach: bool = False) -> str | None:
    """The program for a target, or None when the target refuses the spec (e.g. a missing backbone)."""
    module = target(name)
    if module.check(program):
        return None
    return module.emit(program, EmitOptions(teach=teach))


@pytest.mark.parametrize("name", sorted(TARGETS))
@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.stem)
def test_examples_pass_the_audit_with_marked_names(spec: Path, name: str) -> None:
    """Each example with its model, layer and stage names marked: no marker outside string data."""
    text = spec.read_text(encoding="utf-8")
    original = pipeline.load_text(text, spec.name)
    marked_text, markers = renamed(text, original)
    program = pipeline.load_text(marked_text, spec.name)
    code = emit(program, name)
    if code is None:
        pytest.skip(f"{name} does not compile {spec.name}")
    assert_audited(code, markers)


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden_programs_pass_the_audit(path: Path) -> None:
    """The checked-in golden programs pass the security part of the audit."""
    assert_audited(path.read_text(encoding="utf-8"))


# Payloads that must survive as data: each carries the marker `zqp` so a leak is found.
SAFE_PAYLOADS = [
    'zqp"quote',
    "zqp'single",
    'zqp"""triple',
    "zqp'''triple",
    "zqp\\",
    "zqp\\n\\x00 backslash escapes as text",
    "zqp{__import__('os').system('touch pwned')}",
    "zqp%s%(x)s{0}{}",
    "zqp'); __import__('os').system('touch pwned'); ('",
    'zqp"); __import__("os").system("touch pwned"); ("',
    "zqp # a comment?",
    "zqp é 中文 😀 ﷽",
]
# Payloads the front end must reject, with the code it gives.
REJECTED_PAYLOADS = {
    "zqp\u202ebidi": "SPC006",
    "zqp\u2066isolate": "SPC006",
    "zqp\u2028line": "SPC006",
    "zqp\u2029para": "SPC006",
    "zqp\u0085nel": "SPC006",
    "zqp\x1b[31mansi": "SPC006",
    "zqp\ttab": "SPC006",
    "zqp\rcr": "SPC005",  # a carriage return ends the line, so the string is unterminated
    "zqp\nnewline": "SPC005",
}


def spec_string(value: str) -> str:
    """A spec string literal holding `value` (only \\\\ and \\" are escapes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def payload_spec(field: str, payload: str) -> str:
    """A valid spec with `payload` in one string field."""
    p = spec_string(payload)
    if field in ("image_folder", "weights"):
        folder = p if field == "image_folder" else '"imgs"'
        weights = p if field == "weights" else "imagenet"
        return (
            "model m {\n    input: (64, 64, 3)\n"
            f"    base: mobilenet_v2(weights={weights}, trainable=false)\n"
            "    GlobalAveragePooling2D()\n    Dense(2, activation=softmax)\n}\n"
            f"train {{\n    data: image_folder({folder}, image_size=(64, 64))\n"
            "    loss: sparse_categorical_crossentropy\n    optimizer: Adam()\n}\n"
        )
    data = {
        "csv_path": f'csv({p}, target="y")',
        "csv_target": f'csv("d.csv", target={p})',
        "npz_path": f"npz({p})",
    }[field]
    return (
        "model m {\n    input: (4,)\n    Dense(3, activation=softmax)\n}\n"
        f"train {{\n    data: {data}\n    loss: sparse_categorical_crossentropy\n    optimizer: Adam()\n}}\n"
    )


STRING_FIELDS = ["csv_path", "csv_target", "npz_path", "image_folder", "weights"]


def string_constants(code: str) -> list[str]:
    """Every str constant in a program (f-string literal parts included)."""
    return [
        n.value for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


@pytest.mark.parametrize("name", sorted(TARGETS))
@pytest.mark.parametrize("field", STRING_FIELDS)
def test_safe_payloads_become_string_data(field: str, name: str) -> None:
    """Each payload in each string field: the program passes the audit and holds the payload verbatim."""
    for payload in SAFE_PAYLOADS:
        try:
            program = pipeline.load_text(payload_spec(field, payload), "payload.spec")
        except SpeccError as err:
            # The front end may refuse a payload (never with a crash); then nothing is generated.
            assert all(d.code.startswith("SPC") for d in err.diagnostics)
            continue
        code = emit(program, name)
        assert code is not None, f"{name} refused a valid spec"
        problems = audit(code, ["zqp"])
        assert not problems, f"payload {payload!r} in {field}:\n" + "\n".join(problems)
        assert any(payload in value for value in string_constants(code)), (
            f"payload {payload!r} in {field} is not in any string constant of the {name} program"
        )


@pytest.mark.parametrize("field", STRING_FIELDS)
@pytest.mark.parametrize("payload", sorted(REJECTED_PAYLOADS), ids=ascii)
def test_hidden_characters_are_rejected(field: str, payload: str) -> None:
    """Control, line-break and bidi characters in any string field: the documented diagnostic."""
    with pytest.raises(SpeccError) as err:
        pipeline.load_text(payload_spec(field, payload), "payload.spec")
    assert REJECTED_PAYLOADS[payload] in [d.code for d in err.value.diagnostics]


# Identifier-shaped names that would break or subvert a program if they became code.
NAME_PAYLOADS = ["class", "import", "None", "True", "__import__", "eval", "exec", "self", "zqp_name"]


def names_spec(name: str) -> str:
    """A spec with `name` as the model name, a layer name and a stage name (and a selector)."""
    return (
        f"model {name} {{\n    input: (64,)\n    {name} = Dense(16, activation=relu)\n"
        "    head = Dense(10, activation=softmax)\n}\n"
        "train {\n    data: digits()\n    loss: sparse_categorical_crossentropy\n    optimizer: Adam()\n"
        f"    stage {name} {{\n        freeze: [{name}]\n        epochs: 1\n    }}\n}}\n"
    )


@pytest.mark.parametrize("teach", [False, True], ids=["plain", "teach"])
@pytest.mark.parametrize("name", sorted(TARGETS))
@pytest.mark.parametrize("payload", NAME_PAYLOADS)
def test_names_never_become_code(payload: str, name: str, teach: bool) -> None:
    """Keywords and builtins as model, layer and stage names: valid, audited programs (or a diagnostic)."""
    try:
        program = pipeline.load_text(names_spec(payload), "names.spec")
    except SpeccError as err:
        assert all(d.code.startswith("SPC1") for d in err.value.diagnostics)
        return
    problems = target(name).check(program)
    if problems:  # a target may refuse a name that clashes with its framework (e.g. torch's `eval`)
        assert all(d.code.startswith("SPC3") and payload in d.message for d in problems), problems
        return
    code = emit(program, name, teach)
    assert code is not None
    markers = ["zqp"] if payload.startswith("zqp") else []
    assert_audited(code, markers)
    assert payload in string_constants(code) or any(payload in s for s in string_constants(code))


# Plain values as the targets hand them to literal(): nested containers of scalars.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers()), inner, max_size=4),
    ),
    max_leaves=20,
)
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def same(a: object, b: object) -> bool:
    """Equal with types kept (a tuple is not a list, 1 is not True, -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)  # type: ignore[arg-type]
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))  # type: ignore[arg-type]
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)  # type: ignore[call-overload]
    return a == b


@settings(max_examples=300, deadline=None, database=None)
@given(VALUES)
def test_literal_round_trips(value: object) -> None:
    """literal() is exact Python source for the value, on one line, with no hidden characters."""
    source = literal(value)
    assert same(ast.literal_eval(source), value)
    assert not any(ch in source for ch in LINE_BREAKS + BIDI), ascii(source)
    # As an expression statement it is one constant-only expression (nothing that runs).
    tree = ast.parse(source, mode="eval")
    allowed = (ast.Expression, ast.Constant, ast.Tuple, ast.List, ast.Dict, ast.UnaryOp, ast.USub, ast.Load)
    assert all(isinstance(node, allowed) for node in ast.walk(tree))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object(), {1, 2}, b"bytes", print])
def test_literal_refuses_what_is_not_plain_data(value: object) -> None:
    """Non-finite floats, sets, bytes and objects are refused rather than written as code."""
    with pytest.raises((TypeError, ValueError)):
        literal(value)


def test_audit_catches_what_it_must() -> None:
    """The audit itself: each forbidden construct is reported (so a passing audit means something)."""
    bad = {
        "import pickle": "pickle",
        "import subprocess": "subprocess",
        "eval('1')": "eval",
        "exec('1')": "exec",
        "compile('1', 'f', 'exec')": "compile",
        "__import__('os')": "__import__",
        "import os\nos.system('x')": ".system",
        "import torch\ntorch.load('w.pt')": "weights_only",
        "import torch\ntorch.load('w.pt', weights_only=False)": "weights_only",
        "import numpy as np\nnp.load('a.npz', allow_pickle=True)": "allow_pickle",
        "import keras\nkeras.models.load_model('m.keras', safe_mode=False)": "safe_mode",
        "import keras\nkeras.config.enable_unsafe_deserialization()": "safe mode",
        "import torch\ntorch.hub.load('a/b', 'c')": "torch.hub.load",
        "import requests": "allowlist",
        "from . import x": "allowlist",
        "def f(:\n": "not valid Python",
    }
    for code, expected in bad.items():
        problems = audit(code)
        assert any(expected in p for p in problems), (code, problems)
    leaks = {
        "zqp_name = 1": "identifier",
        "x = 1  # zqp_name": "comment",
        "def f():\n    '''zqp_name'''": "docstring",
        "x = f'{zqp_name}'": "identifier",
    }
    for code, expected in leaks.items():
        problems = audit(code, ["zqp"])
        assert any(expected in p for p in problems), (code, problems)
    assert audit("import torch\nx = torch.load('w.pt', weights_only=True)\ny = 'zqp'", ["zqp"]) == []
