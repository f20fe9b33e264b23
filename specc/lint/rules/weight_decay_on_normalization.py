"""SPC421 weight-decay-on-normalization: optimizer weight decay applied to BatchNorm and biases."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import Finding, I, rule
from specc.lint.facts import NORMALIZATION, backbone_trains, number, optimizer_sites

# Backbones built with BatchNorm (VGG16 has none).
BATCHNORM_BACKBONES = frozenset({"resnet18", "resnet50", "mobilenet_v2", "efficientnet_b0"})

RULE = rule(
    "SPC421",
    "weight-decay-on-normalization",
    I,
    "weight decay on normalization scales and biases",
    finds="An optimizer with weight_decay > 0 in a phase where normalization layers train (a "
    "BatchNormalization or LayerNormalization layer, or an unfrozen ResNet, MobileNet or "
    "EfficientNet backbone, which are full of BatchNorm).",
    why="specc's weight_decay applies to every trainable parameter, as torch.optim's does. "
    "Decaying a normalization layer's scale (gamma) towards 0 shrinks its output and fights the "
    "normalization itself; decaying biases and shifts only removes useful offsets. Common recipes "
    "(ResNet, BERT) exclude them, and the effect grows with the decay. It is an info by default "
    "because small decays on all parameters are also common and usually harmless; raise it with "
    '`[tool.specc.severity] SPC421 = "warning"`.',
    bad="""
model m {
    input: (64,)
    Dense(64)
    BatchNormalization()
    ReLU()
    Dense(10, activation=softmax)
}
train {
    data: digits()
    loss: sparse_categorical_crossentropy
    optimizer: SGD(learning_rate=0.1, weight_decay=5e-4)
}
""",
    fix="Regularise only the kernels: drop weight_decay and put kernel_regularizer=l2(...) on the "
    "Dense/Conv layers.",
    good="""
    Dense(64, kernel_regularizer=l2(5e-4))
    ...
    optimizer: SGD(learning_rate=0.1)
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report weight decay in phases where normalization parameters train."""
    for site in optimizer_sites(program):
        wd = site.optimizer.weight_decay
        if wd <= 0:
            continue
        norms = [
            n.name for n in program.model.layers if n.type in NORMALIZATION and n.name in site.phase.trainable
        ]
        parts = [f"`{n}`" for n in norms]
        base = program.model.base
        if base is not None and base.name in BATCHNORM_BACKBONES and backbone_trains(site.phase):
            parts.append(f"the BatchNorm layers of {base.name}")
        if parts:
            yield Finding(
                f"weight_decay={number(wd)} in {site.where} also decays the scales and shifts of "
                f"{', '.join(parts)}, and every bias",
                site.at("weight_decay"),
                "drop weight_decay and regularise kernels with kernel_regularizer=l2(...)",
            )
