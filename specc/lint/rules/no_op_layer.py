"""SPC442 no-op-layer: a layer that does nothing."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import LayerNode, Program
from specc.layers.base import fmt
from specc.lint.base import Finding, W, rule

RULE = rule(
    "SPC442",
    "no-op-layer",
    W,
    "a layer that does nothing",
    finds="Dropout(0), Activation(linear), a Flatten of an already flat input, a Reshape to the "
    "shape it already has, and a pooling layer with a 1x1 window and stride 1.",
    why="The layer passes its input through unchanged. It usually stands for a setting that was "
    "meant to be something else (a dropout rate left at 0, an activation never filled in), and "
    "it clutters the summary and the generated code.",
    bad="""
model m {
    input: (64,)
    Dense(64)
    Activation(linear)
    Dropout(0)
    Dense(10, activation=softmax)
}
""",
    fix="Remove the layer, or give it the value that was meant (Activation(relu), Dropout(0.2)).",
    good="""
model m {
    input: (64,)
    Dense(64, activation=relu)
    Dropout(0.2)
    Dense(10, activation=softmax)
}
""",
)


def _why(node: LayerNode) -> tuple[str, str | None] | None:
    """(what makes the layer a no-op, the parameter to point at), or None."""
    layer = node.layer
    if node.type == "Dropout" and layer.rate == 0:
        return "Dropout(0) drops nothing", "rate"
    if node.type == "Activation" and layer.activation == "linear":
        return "Activation(linear) is the identity", "activation"
    if node.type == "Flatten" and len(node.in_shape) == 1:
        return f"Flatten of {fmt(node.in_shape)}, which is already flat", None
    if node.type == "Reshape" and node.in_shape == node.out_shape:
        return f"Reshape to {fmt(node.out_shape)}, the shape it already has", "target_shape"
    pooling = hasattr(type(layer), "pool") and "pool_size" in type(layer).model_fields
    if pooling and set(layer.pool) == {1} and set(layer.stride) == {1}:
        return "a 1-wide pooling window with stride 1 returns its input", "pool_size"
    return None


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report layers that pass their input through unchanged."""
    for node in program.model.layers:
        found = _why(node)
        if found:
            message, param = found
            yield Finding(
                f"{node.type} `{node.name}` does nothing: {message}", node.located.at(param), "remove it"
            )
