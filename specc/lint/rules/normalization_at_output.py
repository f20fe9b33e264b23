"""SPC445 normalization-at-output: a BatchNorm/LayerNorm between the classifier and its output."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import Finding, W, rule
from specc.lint.facts import NORMALIZATION, TRANSPARENT

RULE = rule(
    "SPC445",
    "normalization-at-output",
    W,
    "a normalization layer after the last Dense, at the output",
    finds="A BatchNormalization or LayerNormalization after the model's last Dense/Conv layer, for "
    "example right before the final Softmax.",
    why="It normalises the logits (or the probabilities) themselves: every example's scores are "
    "pushed to a fixed mean and spread, which caps how confident the model can be and ties one "
    "example's prediction to the batch it came in. Normalization belongs between hidden layers.",
    bad="""
model m {
    input: (64,)
    Dense(64, activation=relu)
    Dense(10)
    BatchNormalization()
    Softmax()
}
""",
    fix="Normalise hidden layers (Dense, BatchNormalization, ReLU) and let the last Dense feed the "
    "output activation directly.",
    good="""
model m {
    input: (64,)
    Dense(64)
    BatchNormalization()
    ReLU()
    Dense(10, activation=softmax)
}
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report normalization layers after the last layer with weights of its own (the classifier)."""
    layers = program.model.layers
    weighted = [n for n in layers if n.layer.has_weights and n.type not in NORMALIZATION]
    if not weighted:
        return
    last = weighted[-1]
    if last.type not in ("Dense",) and len(last.out_shape) != 1:
        return
    for node in layers[last.index + 1 :]:
        if node.type in NORMALIZATION:
            yield Finding(
                f"{node.type} `{node.name}` normalises the output of the classifier `{last.name}`",
                node.span,
                f"remove it, or move it before `{last.name}`",
            )
        elif node.type not in TRANSPARENT and node.layer.activation_name is None:
            break
