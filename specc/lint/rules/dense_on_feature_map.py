"""SPC441 dense-on-feature-map: a Dense applied to a convolutional feature map."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import LayerNode, Program
from specc.layers.base import fmt
from specc.lint.base import Finding, W, rule
from specc.lint.facts import NORMALIZATION, TRANSPARENT

_SEQUENCE_CONV = ("Conv1D", "MaxPooling1D", "AveragePooling1D")

RULE = rule(
    "SPC441",
    "dense-on-feature-map",
    W,
    "a Dense on a feature map where Flatten or pooling was probably meant",
    finds="A Dense layer whose input is an image feature map (rank 3, e.g. after Conv2D or a "
    "backbone) or the output of a Conv1D/pooling stack (rank 2).",
    why="Dense works on the last axis only: on a (26, 26, 32) map it applies the same small layer at "
    "each of the 26x26 positions and outputs (26, 26, units), not one vector per example. That is "
    "rarely intended; if a classification loss follows, its shapes will not fit, and if a Flatten "
    "comes later, the model has far fewer weights than its author thinks.",
    bad="""
model m {
    input: (28, 28, 1)
    Conv2D(32, 3, activation=relu)
    Dense(128, activation=relu)
    Flatten()
    Dense(10, activation=softmax)
}
""",
    fix="Put Flatten() or GlobalAveragePooling2D() before the Dense.",
    good="""
    Conv2D(32, 3, activation=relu)
    GlobalAveragePooling2D()
    Dense(128, activation=relu)
""",
)


def _producer(before: tuple[LayerNode, ...]) -> LayerNode | None:
    """The last layer that shaped the input (skipping pass-through, activation and norm layers)."""
    for n in reversed(before):
        activation_only = n.layer.activation_name is not None and not n.layer.has_weights
        if n.type in TRANSPARENT or n.type in NORMALIZATION or activation_only:
            continue
        return n
    return None


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report Dense layers that receive feature maps."""
    layers = program.model.layers
    for node in layers:
        if node.type != "Dense" or len(node.in_shape) < 2:
            continue
        producer = _producer(layers[: node.index])
        image = len(node.in_shape) >= 3
        sequence_conv = producer is not None and producer.type in _SEQUENCE_CONV
        if not image and not sequence_conv:
            continue  # (steps, features) from an Embedding or RNN: a per-step Dense is common
        yield Finding(
            f"Dense `{node.name}` gets the feature map {fmt(node.in_shape)} and applies itself at each "
            f"position, giving {fmt(node.out_shape)}",
            node.span,
            "add Flatten() or GlobalAveragePooling before it"
            if image
            else "add Flatten() or GlobalAveragePooling1D() before it",
        )
