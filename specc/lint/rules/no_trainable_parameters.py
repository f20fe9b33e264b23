"""SPC440 no-trainable-parameters: a model that starts training with nothing to train."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import E, Finding, rule

RULE = rule(
    "SPC440",
    "no-trainable-parameters",
    E,
    "the model has no trainable parameters",
    finds="A model without any trainable parameter in its first phase: no layer has weights, or every "
    "layer with weights and the backbone are frozen.",
    why="Training then changes nothing: the loss stays where it starts, and PyTorch refuses to build "
    "an optimizer over an empty parameter list, so the generated program fails.",
    bad="""
model m {
    input: (64,)
    Dense(10, activation=softmax, trainable=false)
}
""",
    fix="Leave at least the output layer trainable (remove trainable=false), or add a layer with "
    "weights such as Dense.",
    good="""
model m {
    input: (64,)
    Dense(10, activation=softmax)
}
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report a model whose first phase has nothing to train."""
    counts = program.model.counts("torch")
    if counts.trainable > 0:
        return
    reason = "none of its layers has weights" if counts.total == 0 else "every layer with weights is frozen"
    yield Finding(
        f"the model `{program.model.name}` has no trainable parameters: {reason}",
        program.spec.model.name_span,
        "add a layer with weights, e.g. Dense(10, activation=softmax)"
        if counts.total == 0
        else "remove trainable=false from the layers that should learn",
    )
