"""SPC444 dropout-after-output: Dropout applied to the model's predictions."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import Finding, W, rule
from specc.lint.facts import head

RULE = rule(
    "SPC444",
    "dropout-after-output",
    W,
    "Dropout after the output layer",
    finds="A Dropout layer after the last layer that computes the output.",
    why="During training it zeroes some predicted probabilities (or logits) and scales the rest up, "
    "so the loss sees corrupted predictions: probabilities no longer sum to 1 and the loss can "
    "become infinite. Dropout regularises hidden activations and belongs before the output layer.",
    bad="""
model m {
    input: (64,)
    Dense(64, activation=relu)
    Dense(10, activation=softmax)
    Dropout(0.5)
}
""",
    fix="Move the Dropout before the output layer.",
    good="""
model m {
    input: (64,)
    Dense(64, activation=relu)
    Dropout(0.5)
    Dense(10, activation=softmax)
}
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report Dropout layers after the head."""
    output = head(program)
    if output is None:
        return
    for node in program.model.layers[output.index + 1 :]:
        if node.type == "Dropout" and node.layer.rate > 0:
            yield Finding(
                f"Dropout `{node.name}` comes after the output layer `{output.name}` and corrupts the "
                "predictions during training",
                node.span,
                f"move it before `{output.name}`",
            )
