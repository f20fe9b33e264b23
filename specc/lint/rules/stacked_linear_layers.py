"""SPC443 stacked-linear-layers: a Dense without activation feeding straight into another Dense."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import Finding, W, rule

RULE = rule(
    "SPC443",
    "stacked-linear-layers",
    W,
    "two Dense layers with no activation between them",
    finds="A Dense layer with the default activation (linear) followed directly by another Dense "
    "(Dropout in between does not count as an activation).",
    why="Two linear maps in a row are one linear map: W2(W1 x + b1) + b2 = W x + b. The extra layer "
    "adds parameters and compute but no expressive power; almost always an activation was "
    "forgotten (activation= defaults to linear).",
    bad="""
model m {
    input: (64,)
    Dense(128)
    Dense(10, activation=softmax)
}
""",
    fix="Give the hidden layer an activation.",
    good="""
model m {
    input: (64,)
    Dense(128, activation=relu)
    Dense(10, activation=softmax)
}
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report linear Dense layers whose next non-Dropout layer is a Dense."""
    layers = program.model.layers
    for node in layers:
        if node.type != "Dense" or node.layer.activation != "linear":
            continue
        after = next((n for n in layers[node.index + 1 :] if n.type != "Dropout"), None)
        if after is not None and after.type == "Dense":
            yield Finding(
                f"Dense `{node.name}` has no activation and feeds Dense `{after.name}`: "
                "together they are one linear layer",
                node.located.at("activation"),
                "add an activation, e.g. activation=relu",
            )
