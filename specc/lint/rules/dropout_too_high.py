"""SPC414 dropout-too-high: a Dropout rate that removes almost everything."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import Finding, W, rule

LIMIT = 0.8

RULE = rule(
    "SPC414",
    "dropout-too-high",
    W,
    "a dropout rate of 0.8 or more",
    finds=f"Dropout(rate) with rate >= {LIMIT:g}.",
    why="The rate is the fraction dropped, not kept (Keras and PyTorch agree). At 0.9 only one "
    "activation in ten survives each step and the survivors are scaled by 10: the gradients are "
    "mostly noise and training barely progresses. Typical rates are 0.1 to 0.5. A rate meant as "
    "'keep probability' (the TensorFlow 1 convention) is the usual cause.",
    bad="""
    Dropout(0.9)
""",
    fix="Use the fraction to drop: Dropout(0.1) to Dropout(0.5).",
    good="""
    Dropout(0.2)
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report Dropout layers with very high rates."""
    for node in program.model.layers:
        if node.type == "Dropout" and node.layer.rate >= LIMIT:
            yield Finding(
                f"Dropout `{node.name}` drops {node.layer.rate:.0%} of its inputs in every step",
                node.located.at("rate"),
                "the rate is the fraction dropped; use 0.1 to 0.5",
            )
