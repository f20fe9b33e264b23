"""SPC407 bounded-regression-output: a sigmoid/tanh/softmax output for real-valued targets."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import Finding, W, rule
from specc.lint.facts import head_span, loss_sites, regression_data

_RANGES = {"sigmoid": "(0, 1)", "tanh": "(-1, 1)", "softmax": "(0, 1), summing to 1"}

RULE = rule(
    "SPC407",
    "bounded-regression-output",
    W,
    "a bounded output activation for real-valued targets",
    finds="A regression loss on data with real-valued targets (such as diabetes()) where the output "
    "layer applies sigmoid, tanh or softmax.",
    why="The output can only take values inside the activation's range, while the targets lie "
    "outside it (diabetes progression runs from 25 to 346). The model cannot fit them and the "
    "saturated activation stops the gradients.",
    bad="""
model m {
    input: (10,)
    Dense(1, activation=sigmoid)
}
train {
    data: diabetes()
    loss: mse
}
""",
    fix="End regression models with a linear output: Dense(1).",
    good="""
model m {
    input: (10,)
    Dense(1)
}
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report bounded outputs trained on real-valued targets."""
    activation = program.model.output_activation
    if activation not in _RANGES or not regression_data(program):
        return
    if any(not site.loss.classification for site in loss_sites(program)):
        yield Finding(
            f"the output activation {activation} limits predictions to {_RANGES[activation]}, "
            "but the targets are real-valued",
            head_span(program, "activation"),
            "use a linear output layer for regression: Dense(1)",
        )
