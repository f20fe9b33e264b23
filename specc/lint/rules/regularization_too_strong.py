"""SPC413 regularization-too-strong: an L1/L2 penalty or weight decay that overwhelms the loss."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import Finding, W, rule
from specc.lint.facts import number, optimizer_sites, param

LIMIT = 0.1

RULE = rule(
    "SPC413",
    "regularization-too-strong",
    W,
    "an L1/L2 factor or coupled weight decay above 0.1",
    finds=f"A kernel_regularizer or bias_regularizer whose l1 or l2 factor is above {LIMIT:g}, or an "
    f"SGD/Adam/RMSprop weight_decay above {LIMIT:g} (AdamW's decoupled decay is exempt).",
    why="The penalty is added to the loss for every weight, so a factor of 0.5 makes shrinking the "
    "weights matter more than fitting the data: the model underfits and predicts near-constant "
    "values. Useful factors are 1e-5 to 1e-2.",
    bad="""
model m {
    input: (64,)
    Dense(64, activation=relu, kernel_regularizer=l2(0.5))
    Dense(10, activation=softmax)
}
""",
    fix="Start from l2(1e-4) (weight_decay=1e-4) and raise it only while validation improves.",
    good="""
    Dense(64, activation=relu, kernel_regularizer=l2(1e-4))
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report strong regularizer factors and strong coupled weight decay."""
    for node in program.model.layers:
        for name in ("kernel_regularizer", "bias_regularizer"):
            reg = param(node.layer, name)
            if reg is None:
                continue
            l1, l2 = reg.factors()
            for kind, factor in (("l1", l1), ("l2", l2)):
                if factor > LIMIT:
                    yield Finding(
                        f"{name} of `{node.name}` has {kind}={number(factor)}; above {LIMIT:g} the "
                        "penalty outweighs the data",
                        node.located.at(name),
                        f"try {kind}(1e-4)",
                    )
    for site in optimizer_sites(program):
        wd = site.optimizer.weight_decay
        if not site.optimizer.decoupled and wd > LIMIT:
            yield Finding(
                f"weight_decay={number(wd)} for {site.name} in {site.where} adds a penalty above "
                f"{LIMIT:g} for every weight",
                site.at("weight_decay"),
                "try weight_decay=1e-4, or AdamW for decoupled decay",
            )
