"""SPC406 regression-loss-on-classifier: mse/mae/huber on a softmax or sigmoid classifier head."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import Finding, W, rule
from specc.lint.facts import classes, head_span, loss_sites, regression_data

RULE = rule(
    "SPC406",
    "regression-loss-on-classifier",
    W,
    "a regression loss on a classifier head",
    finds="A regression loss (mse, mae, huber) on a softmax output, or on a sigmoid output when the "
    "data has class labels.",
    why="Squared or absolute error on probabilities gives vanishing gradients when the model is "
    "confidently wrong (the softmax/sigmoid saturates), so classifiers train slowly and end worse "
    "than with cross-entropy, which is made for probabilities.",
    bad="""
model m {
    input: (30,)
    Dense(1, activation=sigmoid)
}
train {
    data: breast_cancer()
    loss: mse
}
""",
    fix="Use sparse_categorical_crossentropy for a softmax head (binary_crossentropy for one sigmoid "
    "unit); keep mse/mae for real-valued targets with a linear output.",
    good="""
train {
    data: breast_cancer()
    loss: binary_crossentropy
}
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report regression losses on classifier heads."""
    activation = program.model.output_activation
    labelled = classes(program) is not None
    if activation == "softmax" or (activation == "sigmoid" and labelled and not regression_data(program)):
        for site in loss_sites(program):
            if not site.loss.classification:
                better = (
                    "binary_crossentropy" if activation == "sigmoid" else "sparse_categorical_crossentropy"
                )
                yield Finding(
                    f"`{site.name}` is a regression loss, but the output is a {activation} classifier "
                    f"(line {head_span(program).line})",
                    site.span,
                    f"use {better}",
                )
