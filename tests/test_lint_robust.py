"""Lint never fails on a spec that passed the front end: random models, stages and settings."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specc import pipeline
from specc.diagnostics import SpeccError
from specc.lint import lint, rule_codes

ROOT = Path(__file__).resolve().parent.parent
ACTIVATION = st.sampled_from(["linear", "relu", "sigmoid", "tanh", "softmax", "gelu"])
REGULARIZER = st.sampled_from(
    [
        "",
        ", kernel_regularizer=l2(1e-4)",
        ", kernel_regularizer=l1(0.5)",
        ", bias_regularizer=l1_l2(l1=0.2, l2=0.3)",
    ]
)


@st.composite
def layer(draw: st.DrawFn, image: bool) -> str:
    """One layer statement, optionally named and frozen."""
    kinds = ["dense", "dropout", "activation", "bn", "ln", "flatten", "softmax"]
    if image:
        kinds += ["conv", "pool", "gap", "conv", "pool1"]
    kind = draw(st.sampled_from(kinds))
    frozen = ", trainable=false" if draw(st.integers(0, 5)) == 0 else ""
    if kind == "dense":
        units = draw(st.sampled_from([1, 2, 3, 10, 64]))
        text = f"Dense({units}, activation={draw(ACTIVATION)}{draw(REGULARIZER)}{frozen})"
    elif kind == "dropout":
        text = f"Dropout({draw(st.sampled_from([0.0, 0.2, 0.5, 0.8, 0.95]))})"
    elif kind == "activation":
        text = f"Activation({draw(ACTIVATION)})"
    elif kind == "bn":
        text = f"BatchNormalization({frozen.lstrip(', ')})"
    elif kind == "ln":
        text = "LayerNormalization()"
    elif kind == "flatten":
        text = "Flatten()"
    elif kind == "softmax":
        text = "Softmax()"
    elif kind == "conv":
        text = (
            f"Conv2D({draw(st.sampled_from([4, 8]))}, 3, padding=same, activation={draw(ACTIVATION)}{frozen})"
        )
    elif kind == "pool":
        text = "MaxPooling2D(2, padding=same)"
    elif kind == "pool1":
        text = "MaxPooling2D(1)"
    else:
        text = "GlobalAveragePooling2D()"
    name = draw(st.sampled_from(["", "", "a = ", "b = ", "c = "]))
    return name + text


@st.composite
def spec(draw: st.DrawFn) -> str:
    """A random spec: tabular or image input, maybe a backbone, a train block with stages."""
    base = draw(st.booleans())
    image = base or draw(st.booleans())
    if base:
        size = draw(st.sampled_from([32, 64, 96, 224]))
        backbone = draw(st.sampled_from(["resnet18", "resnet50", "vgg16", "mobilenet_v2", "efficientnet_b0"]))
        weights = draw(st.sampled_from(["imagenet", "none"]))
        trainable = "true" if draw(st.booleans()) else "false"
        header = f"    input: ({size}, {size}, 3)\n"
        header += f"    base: {backbone}(weights={weights}, trainable={trainable})\n"
        data = draw(st.sampled_from(["synthetic(samples=40, classes=3)", "synthetic(samples=40)"]))
    elif image:
        header = "    input: (8, 8, 1)\n"
        data = "digits()"
    else:
        header = f"    input: ({draw(st.sampled_from([64, 10, 4]))},)\n"
        data = draw(st.sampled_from(["digits()", "diabetes()", "iris()", "synthetic(samples=20)"]))
    layers = draw(st.lists(layer(image), min_size=0 if base else 1, max_size=7))
    body = "".join(f"    {x}\n" for x in layers)
    model = f"model m {{\n{header}{body}}}\n"
    if draw(st.integers(0, 4)) == 0:
        return model
    loss = draw(
        st.sampled_from(
            [
                "mse",
                "mae",
                "huber",
                "binary_crossentropy",
                "categorical_crossentropy",
                "sparse_categorical_crossentropy(from_logits=true)",
                "sparse_categorical_crossentropy",
            ]
        )
    )
    optimizer = draw(
        st.sampled_from(
            [
                "Adam(learning_rate=0.1)",
                "SGD(learning_rate=1e-8, weight_decay=0.5)",
                "AdamW()",
                "RMSprop(learning_rate=1e-3, weight_decay=1e-4)",
                "Adam()",
            ]
        )
    )
    stages = []
    for i in range(draw(st.integers(0, 3))):
        selector = draw(
            st.sampled_from(["base", "base.last(5)", "base.last(500)", "all", "a", "[a, b]", "c"])
        )
        action = draw(st.sampled_from(["unfreeze", "freeze"]))
        if action == "freeze" and selector.startswith("base.last"):
            selector = "base"
        lr = draw(
            st.sampled_from(
                [
                    "",
                    "\n        optimizer: Adam(learning_rate=1e-5)",
                    "\n        optimizer: SGD(learning_rate=0.01)",
                ]
            )
        )
        extra = draw(
            st.sampled_from(
                ["", "\n        batch_size: 4096", "\n        loss: mse", "\n        metrics: [accuracy]"]
            )
        )
        stages.append(f"    stage s{i} {{\n        {action}: {selector}{lr}{extra}\n    }}\n")
    metrics = draw(st.sampled_from(["", "    metrics: [accuracy]\n", "    metrics: [mae]\n"]))
    train = (
        f"train {{\n    data: {data}\n    loss: {loss}\n    optimizer: {optimizer}\n"
        f"    batch_size: {draw(st.sampled_from([8, 32, 5000]))}\n{metrics}{''.join(stages)}}}\n"
    )
    return model + train


def lint_text(text: str) -> None:
    """Lint a spec that passes the front end and check the diagnostics are well-formed."""
    try:
        program = pipeline.load_text(text, "random.spec")
    except SpeccError:
        return
    lines = text.count("\n") + 1
    for diag in lint(program):
        assert diag.code in rule_codes()
        assert 1 <= diag.span.line <= lines and diag.span.column >= 1
        assert diag.message and diag.file == "random.spec"


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(spec())
def test_random_specs_lint_cleanly(text: str) -> None:
    lint_text(text)


def test_every_valid_spec_in_the_repository_lints() -> None:
    """Examples, the valid corpus and the lint fixtures: lint runs without an exception."""
    paths = [
        *ROOT.glob("examples/**/*.spec"),
        *ROOT.glob("tests/corpus/valid/*.spec"),
        *ROOT.glob("tests/lint/**/*.spec"),
    ]
    assert len(paths) > 60
    for path in paths:
        try:
            program = pipeline.load(path)
        except SpeccError:
            continue
        lint(program)


def test_generated_spec_reaches_many_rules() -> None:
    """The generator is rich enough to exercise most rules (so the property test means something)."""
    from hypothesis import find

    seen: set[str] = set()

    def collect(text: str) -> bool:
        try:
            program = pipeline.load_text(text, "random.spec")
        except SpeccError:
            return False
        seen.update(d.code for d in lint(program))
        return len(seen) >= 15

    find(
        spec(),
        collect,
        # Derandomized: the same examples on every run, so this cannot flake.
        settings=settings(
            max_examples=2000, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
        ),
    )
    assert len(seen) >= 15
