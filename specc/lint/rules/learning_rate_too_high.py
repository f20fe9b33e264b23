"""SPC411 learning-rate-too-high: a learning rate at which training diverges."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import Finding, W, rule
from specc.lint.facts import ADAPTIVE, number, optimizer_sites

ADAPTIVE_LIMIT = 1e-2
ANY_LIMIT = 1.0

RULE = rule(
    "SPC411",
    "learning-rate-too-high",
    W,
    "a learning rate at which training usually diverges",
    finds=f"An adaptive optimizer (Adam, AdamW, RMSprop) with learning_rate above {ADAPTIVE_LIMIT:g}, "
    f"or any optimizer above {ANY_LIMIT:g}.",
    why="Adaptive optimizers scale each step to roughly the learning rate itself, so 0.1 moves every "
    "weight by about 0.1 per step: the loss jumps around or becomes NaN within a few batches. "
    "Their usual range is 1e-4 to 3e-3. Plain SGD tolerates more, but above 1 it diverges on "
    "almost any problem.",
    bad="""
train {
    data: digits()
    loss: sparse_categorical_crossentropy
    optimizer: Adam(learning_rate=0.1)
}
""",
    fix="Start adaptive optimizers at 1e-3 (Adam's default); tune SGD between 1e-3 and 0.1.",
    good="""
    optimizer: Adam(learning_rate=1e-3)
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report each optimizer whose learning rate is above its safe limit."""
    for site in optimizer_sites(program):
        lr = site.optimizer.learning_rate
        limit = ADAPTIVE_LIMIT if site.name in ADAPTIVE else ANY_LIMIT
        if lr > limit:
            kind = "an adaptive optimizer" if site.name in ADAPTIVE else "any optimizer"
            yield Finding(
                f"learning_rate={number(lr)} for {site.name} in {site.where}; above {limit:g} "
                f"{kind} usually diverges",
                site.at("learning_rate"),
                "try learning_rate=1e-3" if site.name in ADAPTIVE else "try learning_rate=0.01 to 0.1",
            )
