"""SPC447 repeated-activation: an activation layer right after a layer that already applied one."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import Finding, W, rule

RULE = rule(
    "SPC447",
    "repeated-activation",
    W,
    "two activations in a row",
    finds="An activation layer (Activation, ReLU, Sigmoid, Tanh, Softmax) directly after a layer that "
    "already applied the same activation, such as `Dense(10, activation=softmax)` followed by "
    "`Softmax()`, or any activation applied to softmax probabilities (Dropout in between does not "
    "count). Two different hidden activations in a row (relu, then tanh) are unusual but change "
    "the function, so they are not reported.",
    why="The second activation is usually a leftover from moving the activation into the layer. "
    "relu after relu does nothing; softmax after softmax squashes the probabilities towards "
    "uniform, and sigmoid after sigmoid maps everything into (0.5, 0.73): the outputs stop meaning "
    "what the loss assumes.",
    bad="""
model m {
    input: (64,)
    Dense(10, activation=softmax)
    Softmax()
}
""",
    fix="Keep one of the two: the layer's activation= or the separate activation layer.",
    good="""
model m {
    input: (64,)
    Dense(10, activation=softmax)
}
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report activation layers applied on top of another non-linear activation."""
    layers = program.model.layers
    for node in layers:
        if node.layer.has_weights or node.layer.activation_name in (None, "linear"):
            continue
        before = next((n for n in reversed(layers[: node.index]) if n.type != "Dropout"), None)
        if before is None or before.layer.activation_name in (None, "linear"):
            continue
        first, second = before.layer.activation_name, node.layer.activation_name
        if first != second and first != "softmax":
            continue
        yield Finding(
            f"{node.type} `{node.name}` applies {second} to the output of `{before.name}`, "
            f"which already applied {first}",
            node.span,
            "keep one activation",
        )
