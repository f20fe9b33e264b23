"""SPC420 l2-and-weight-decay: an l2 regularizer and optimizer weight decay on the same weights."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import Finding, W, rule
from specc.lint.facts import number, optimizer_sites, param

RULE = rule(
    "SPC420",
    "l2-and-weight-decay",
    W,
    "an l2 regularizer and optimizer weight decay on the same weights",
    finds="A layer with an l2 (or l1_l2) kernel or bias regularizer, trained in a phase whose "
    "optimizer also has weight_decay > 0.",
    why="In specc weight_decay already penalises every trainable parameter (grad += wd * w, the "
    "PyTorch meaning). An l2(f) regularizer on the same weights adds a second L2 term, so their "
    "decay is the sum of both, stronger than either setting says, and tuning one of them no "
    "longer does what it appears to.",
    bad="""
model m {
    input: (64,)
    Dense(64, activation=relu, kernel_regularizer=l2(1e-4))
    Dense(10, activation=softmax)
}
train {
    data: digits()
    loss: sparse_categorical_crossentropy
    optimizer: Adam(weight_decay=1e-4)
}
""",
    fix="Pick one mechanism: either weight_decay on the optimizer (all weights) or l2(...) on the "
    "layers that need it.",
    good="""
    optimizer: Adam(learning_rate=1e-3)
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report layers penalised twice, once per optimizer declaration."""
    for site in optimizer_sites(program):
        wd = site.optimizer.weight_decay
        if wd <= 0:
            continue
        doubled = []
        for node in program.model.layers:
            if node.name not in site.phase.trainable:
                continue
            for name in ("kernel_regularizer", "bias_regularizer"):
                reg = param(node.layer, name)
                if reg is not None and reg.factors()[1] > 0:
                    doubled.append(node.name)
                    break
        if doubled:
            names = ", ".join(f"`{n}`" for n in doubled)
            yield Finding(
                f"weight_decay={number(wd)} in {site.where} also decays {names}, which already "
                f"{'has' if len(doubled) == 1 else 'have'} an l2 regularizer",
                site.at("weight_decay"),
                "use either weight_decay or l2(...), not both",
            )
