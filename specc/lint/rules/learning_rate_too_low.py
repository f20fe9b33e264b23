"""SPC412 learning-rate-too-low: a learning rate so small that the weights barely move."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import Finding, I, rule
from specc.lint.facts import number, optimizer_sites

LIMIT = 1e-6

RULE = rule(
    "SPC412",
    "learning-rate-too-low",
    I,
    "a learning rate so small that nothing is learned in a normal number of epochs",
    finds=f"An optimizer with learning_rate below {LIMIT:g}.",
    why="Below about 1e-6 each step changes a weight by a millionth of its gradient: the loss curve "
    "stays flat and it looks as if the model cannot learn. (Fine-tuning rates are usually 1e-5 "
    "to 1e-4, above this limit.)",
    bad="""
    optimizer: SGD(learning_rate=1e-8)
""",
    fix="Use 1e-3 for Adam-like optimizers and 1e-2 for SGD as a start; 1e-5 for fine-tuning.",
    good="""
    optimizer: SGD(learning_rate=1e-2)
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report each optimizer with a vanishing learning rate."""
    for site in optimizer_sites(program):
        lr = site.optimizer.learning_rate
        if lr < LIMIT:
            yield Finding(
                f"learning_rate={number(lr)} in {site.where} is too small to learn anything in "
                f"{site.phase.epochs} epochs",
                site.at("learning_rate"),
                "use 1e-3 (Adam) or 1e-2 (SGD); 1e-5 for fine-tuning",
            )
