"""SPC404 softmax-single-unit: softmax over an axis of size 1, which always outputs 1."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import E, Finding, rule
from specc.lint.facts import head, loss_sites, param

RULE = rule(
    "SPC404",
    "softmax-single-unit",
    E,
    "softmax over a single unit",
    finds="A softmax (as a layer's activation or a Softmax layer) over an axis of size 1.",
    why="Softmax normalises over its axis: with one value, exp(x)/exp(x) = 1 whatever x is. The layer "
    "outputs a constant 1, no gradient flows back through it, and the model learns nothing.",
    bad="""
model m {
    input: (30,)
    Dense(1, activation=softmax)
}
""",
    fix="For one output unit use sigmoid (binary classification) or linear (regression); for several "
    "classes give the layer one unit per class.",
    good="""
model m {
    input: (30,)
    Dense(1, activation=sigmoid)
}
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report each softmax over a size-1 axis (SPC405 reports the binary-loss output instead)."""
    output = head(program)
    binary = any(site.loss.labels == "binary" for site in loss_sites(program))
    for node in program.model.layers:
        if node.layer.activation_name != "softmax" or binary and node is output:
            continue
        axis = param(node.layer, "axis", -1)
        if node.out_shape[axis] == 1:
            yield Finding(
                f"{node.type} `{node.name}` applies softmax over 1 value: it always outputs 1",
                node.located.at("activation"),
                "use activation=sigmoid for one unit, or give the layer one unit per class",
            )
