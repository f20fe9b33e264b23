"""SPC402 crossentropy-on-raw-output: a cross-entropy loss on an output that is not probabilities."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import E, Finding, rule
from specc.lint.facts import PROBABILITY, head_span, loss_sites

RULE = rule(
    "SPC402",
    "crossentropy-on-raw-output",
    E,
    "cross-entropy on an output that is neither softmax/sigmoid nor declared from_logits",
    finds="A cross-entropy loss without `from_logits=true` on a model whose output activation is not "
    "softmax or sigmoid (linear, relu, tanh, ...).",
    why="Without `from_logits=true` the loss takes the outputs as probabilities and takes their "
    "logarithm. Raw scores can be negative or above 1: the loss is meaningless, and often NaN.",
    bad="""
model m {
    input: (64,)
    Dense(10)
}
train {
    data: digits()
    loss: sparse_categorical_crossentropy
}
""",
    fix="Declare the output as logits with `from_logits=true` (preferred: numerically stable), or "
    "end with activation=softmax (sigmoid for binary_crossentropy).",
    good="""
train {
    data: digits()
    loss: sparse_categorical_crossentropy(from_logits=true)
}
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report cross-entropy losses on raw outputs."""
    activation = program.model.output_activation
    if activation in PROBABILITY:
        return
    for site in loss_sites(program):
        if site.loss.classification and not site.from_logits:
            want = "sigmoid" if site.loss.labels == "binary" else "softmax"
            yield Finding(
                f"`{site.name}` expects probabilities, but the output activation is {activation}",
                site.span,
                f"write {site.name}(from_logits=true), or end the model with activation={want} "
                f"(line {head_span(program).line})",
            )
