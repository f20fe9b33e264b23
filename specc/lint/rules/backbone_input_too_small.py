"""SPC434 backbone-input-too-small: images far smaller than a pretrained backbone was trained on."""

from __future__ import annotations

from collections.abc import Iterator

from specc.ir import Program
from specc.lint.base import Finding, W, rule

LIMIT = 75

RULE = rule(
    "SPC434",
    "backbone-input-too-small",
    W,
    f"a pretrained backbone on images smaller than {LIMIT}x{LIMIT}",
    finds=f"A `base:` whose input is smaller than {LIMIT} pixels on a side. (Below 32, or without 3 "
    "channels, the front end rejects it: SPC207.)",
    why="ImageNet backbones downsample by 32: a 64x64 image leaves a 2x2 feature map, and their "
    "filters were learned on objects at 224x224 scale. Features of tiny inputs transfer poorly "
    f"(Keras refuses most of these models below {LIMIT}x{LIMIT} with pretrained weights).",
    bad="""
model m {
    input: (32, 32, 3)
    base: resnet50(trainable=false)
    GlobalAveragePooling2D()
    Dense(10, activation=softmax)
}
""",
    fix="Resize the images up (image_folder(..., image_size=(224, 224)) with input: (224, 224, 3)), "
    "or train a small convolutional network from scratch for small images.",
    good="""
model m {
    input: (224, 224, 3)
    base: resnet50(trainable=false)
    GlobalAveragePooling2D()
    Dense(10, activation=softmax)
}
""",
)


@RULE
def check(program: Program) -> Iterator[Finding]:
    """Report a backbone whose input is below the size limit."""
    base = program.model.base
    if base is None:
        return
    h, w = base.in_shape[:2]
    if min(h, w) < LIMIT:
        fh, fw = base.out_shape[:2]
        yield Finding(
            f"{base.name} gets {h}x{w} images and reduces them to a {fh}x{fw} feature map; "
            f"pretrained backbones need about {LIMIT}x{LIMIT} or more",
            program.spec.model.input_span,
            "resize the images up, e.g. input: (224, 224, 3)",
        )
