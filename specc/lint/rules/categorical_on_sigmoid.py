"""SPC403 categorical-on-sigmoid: a softmax cross-entropy over several sigmoid outputs."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import Finding, W, rule
from specc.lint.facts import head_span, loss_sites, output_units

RULE = rule(
    "SPC403",
    "categorical-on-sigmoid",
    W,
    "categorical cross-entropy on several sigmoid outputs",
    finds="`categorical_crossentropy` or `sparse_categorical_crossentropy` on an output layer of more "
    "than one unit with activation=sigmoid.",
    why="Categorical cross-entropy expects one probability distribution over the classes (softmax: "
    "the outputs sum to 1). Independent sigmoids do not sum to 1, so the loss only pushes the true "
    "class up and never the others down: the predicted class is unreliable.",
    bad="""
model m {
    input: (64,)
    Dense(10, activation=sigmoid)
}
train {
    data: digits()
    loss: sparse_categorical_crossentropy
}
""",
    fix="Use activation=softmax for one class per example (sigmoid is for multi-label or binary outputs).",
    good="""
model m {
    input: (64,)
    Dense(10, activation=softmax)
}
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report categorical losses over multi-unit sigmoid outputs."""
    units = output_units(program)
    if program.model.output_activation != "sigmoid" or units is None or units < 2:
        return
    for site in loss_sites(program):
        if site.loss.labels in ("sparse", "onehot"):
            yield Finding(
                f"`{site.name}` expects a softmax distribution, but the {units} outputs are independent "
                "sigmoids",
                head_span(program, "activation"),
                "use activation=softmax on the output layer",
            )
