"""SPC405 binary-crossentropy-on-softmax: binary cross-entropy on a softmax output."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import E, Finding, rule
from specc.lint.facts import head_span, loss_sites, output_units

RULE = rule(
    "SPC405",
    "binary-crossentropy-on-softmax",
    E,
    "binary cross-entropy on a softmax output",
    finds="`binary_crossentropy` on a model whose output activation is softmax. (More than one output "
    "unit with binary cross-entropy is already an error of the front end, SPC206.)",
    why="Binary cross-entropy needs one probability per example, p(class 1). Softmax over the single "
    "unit it allows always outputs 1, so the loss is constant for one class and infinite for the "
    "other, and nothing is learned.",
    bad="""
model m {
    input: (30,)
    Dense(1, activation=softmax)
}
train {
    data: breast_cancer()
    loss: binary_crossentropy
}
""",
    fix="Use activation=sigmoid on the single output unit, or two softmax units with "
    "sparse_categorical_crossentropy.",
    good="""
model m {
    input: (30,)
    Dense(1, activation=sigmoid)
}
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report binary cross-entropy on a softmax output."""
    if program.model.output_activation != "softmax":
        return
    for site in loss_sites(program):
        if site.loss.labels == "binary":
            units = output_units(program)
            yield Finding(
                f"binary_crossentropy on a softmax output of {units} unit: softmax of one value is always 1",
                head_span(program, "activation"),
                "use Dense(1, activation=sigmoid)",
            )
