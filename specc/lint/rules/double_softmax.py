"""SPC401 double-softmax: a softmax/sigmoid output with a loss declared `from_logits=true`."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import E, Finding, rule
from specc.lint.facts import PROBABILITY, head_span, loss_sites

RULE = rule(
    "SPC401",
    "double-softmax",
    E,
    "a softmax or sigmoid output trained with a loss that expects logits",
    finds="A model whose output layer applies softmax or sigmoid while the loss says `from_logits=true`.",
    why="`from_logits=true` tells the loss that the model outputs raw scores, so it applies softmax "
    "(or sigmoid) itself. The probabilities get squashed a second time: every output lands near "
    "1/classes, the gradients shrink, and training stalls at poor accuracy without any error.",
    bad="""
model m {
    input: (64,)
    Dense(10, activation=softmax)
}
train {
    data: digits()
    loss: sparse_categorical_crossentropy(from_logits=true)
}
""",
    fix="Either drop `from_logits=true` (the output is probabilities) or make the output linear and "
    "keep `from_logits=true` (the numerically stable form).",
    good="""
model m {
    input: (64,)
    Dense(10)
}
train {
    data: digits()
    loss: sparse_categorical_crossentropy(from_logits=true)
}
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report each loss declared from_logits on a probability output."""
    activation = program.model.output_activation
    if activation not in PROBABILITY:
        return
    for site in loss_sites(program):
        if site.from_logits:
            yield Finding(
                f"the output applies {activation} but `{site.name}` has from_logits=true, "
                f"so {activation} is applied twice",
                site.at("from_logits"),
                f"remove from_logits=true, or drop activation={activation} from the output layer "
                f"(line {head_span(program).line})",
            )
