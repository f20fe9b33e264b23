"""SPC448 oversized-dense: one Dense layer holding tens of millions of weights."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.layers.base import fmt
from specc.lint.base import Finding, W, rule

LIMIT = 10_000_000

RULE = rule(
    "SPC448",
    "oversized-dense",
    W,
    f"a Dense layer with more than {LIMIT:,} parameters",
    finds=f"A Dense layer with more than {LIMIT:,} parameters, typically right after Flattening a large "
    "feature map.",
    why="Flattening a (7, 7, 2048) backbone output gives 100,352 features, so even Dense(256) holds "
    "25 million weights: more than the whole ResNet-50 it sits on. It overfits small data sets, "
    "and it is slow and memory-hungry. Global pooling keeps one value per channel instead.",
    bad="""
model m {
    input: (224, 224, 3)
    base: resnet50(trainable=false)
    Flatten()
    Dense(256, activation=relu)
    Dense(5, activation=softmax)
}
""",
    fix="Use GlobalAveragePooling2D() instead of Flatten() before the Dense.",
    good="""
    base: resnet50(trainable=false)
    GlobalAveragePooling2D()
    Dense(256, activation=relu)
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report Dense layers above the parameter limit."""
    for node in program.model.layers:
        if node.type != "Dense":
            continue
        count = node.counts["torch"].total
        if count > LIMIT:
            yield Finding(
                f"Dense `{node.name}` has {count:,} parameters ({fmt(node.in_shape)} inputs x "
                f"{node.layer.units} units)",
                node.span,
                "use GlobalAveragePooling2D() instead of Flatten() before it, or fewer units",
            )
