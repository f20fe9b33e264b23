"""SPC435 random-frozen-backbone: a backbone without pretrained weights that is frozen."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import E, Finding, rule

RULE = rule(
    "SPC435",
    "random-frozen-backbone",
    E,
    "a frozen backbone with random weights",
    finds="`base: ...(weights=none, trainable=false)`: a backbone initialised at random and then frozen.",
    why="weights=none starts the backbone from random numbers; frozen, it stays a fixed random "
    "projection, so the head learns from noise features and accuracy stays near chance.",
    bad="""
    base: resnet18(weights=none, trainable=false)
""",
    fix="Use weights=imagenet (or a weights file) to freeze pretrained features, or keep "
    "weights=none and let the backbone train.",
    good="""
    base: resnet18(weights=imagenet, trainable=false)
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report a random backbone that does not train in the first phase."""
    base = program.model.base
    if base is None or base.backbone.weights is not None or base.backbone.trainable:
        return
    yield Finding(
        f"{base.name} has weights=none (random) and trainable=false: its features stay random",
        base.located.at("trainable"),
        "use weights=imagenet, or trainable=true to train it from scratch",
    )
