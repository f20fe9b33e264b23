"""SPC431 backbone-trains-with-new-head: a pretrained backbone unfrozen while the new head is random."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import Finding, W, rule
from specc.lint.facts import phases

RULE = rule(
    "SPC431",
    "backbone-trains-with-new-head",
    W,
    "a pretrained backbone trains from the first phase, together with a new random head",
    finds="A `base:` with pretrained weights that is trainable in the first phase (the train block), "
    "while layers after it start from random weights. `trainable` defaults to true, so "
    "`base: resnet50()` alone does this.",
    why="At the start the new head is random, so its gradients are large and meaningless; flowing "
    "into the backbone they wreck the pretrained features before the head has learned to use "
    "them. The transfer-learning recipe trains the head on a frozen backbone first, then "
    "fine-tunes with a small learning rate.",
    bad="""
model m {
    input: (224, 224, 3)
    base: resnet50(weights=imagenet)
    GlobalAveragePooling2D()
    Dense(5, activation=softmax)
}
""",
    fix="Freeze the backbone for the first phase, then unfreeze it in a stage with a lower rate.",
    good="""
model m {
    input: (224, 224, 3)
    base: resnet50(weights=imagenet, trainable=false)
    GlobalAveragePooling2D()
    Dense(5, activation=softmax)
}
train {
    ...
    stage fine_tune {
        unfreeze: base.last(10)
        optimizer: Adam(learning_rate=1e-5)
    }
}
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report a pretrained backbone that is trainable in the first phase next to trainable new layers."""
    base = program.model.base
    if base is None or base.backbone.weights is None:
        return
    plan = phases(program)
    trains = plan[0].base != 0 if plan else base.backbone.trainable
    new_layers = plan[0].trainable if plan else {n.name for n in program.model.layers if n.trainable}
    if not trains or not new_layers:
        return
    yield Finding(
        f"the pretrained {base.name} trains from the first phase, while the new layers after it "
        "start from random weights",
        base.located.at("trainable"),
        f"write trainable=false in `base: {base.name}(...)` "
        "and unfreeze it in a later stage with a smaller learning rate",
    )
