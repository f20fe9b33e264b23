"""Pretrained backbones: what each target ships, their output shapes and parameter counts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, ClassVar

from pydantic import Field, field_validator

from specc.callable import Callable_, Registry, Target
from specc.layers.base import Shape, ShapeProblem, fmt

BACKBONES = Registry("backbone")


@dataclass(frozen=True)
class Build:
    """How one target builds a backbone and what its framework counts (measured, see tests)."""

    constructor: str  # torchvision.models.<name> or keras.applications.<name>
    trainable: int  # parameters that train when the backbone is unfrozen
    non_trainable: int  # always non-trainable (Keras BatchNorm moving statistics)
    weight_layers: int  # layers holding weights, the unit of base.last(N)


@dataclass(frozen=True)
class BackboneInfo:
    """Static facts of one backbone, per target."""

    channels: int
    # How the 5 stride-2 stages round: ResNet, MobileNet and EfficientNet pad (ceil),
    # VGG's max pools drop the remainder (floor).
    rounding: str
    builds: dict[str, Build]


INFO: dict[str, BackboneInfo] = {
    "resnet18": BackboneInfo(
        512,
        "ceil",
        {
            "torch": Build("resnet18", 11_176_512, 0, 40),
        },
    ),
    "resnet50": BackboneInfo(
        2048,
        "ceil",
        {
            "torch": Build("resnet50", 23_508_032, 0, 106),
            "keras": Build("ResNet50", 23_534_592, 53_120, 106),
        },
    ),
    "vgg16": BackboneInfo(
        512,
        "floor",
        {
            "torch": Build("vgg16", 14_714_688, 0, 13),
            "keras": Build("VGG16", 14_714_688, 0, 13),
        },
    ),
    "mobilenet_v2": BackboneInfo(
        1280,
        "ceil",
        {
            "torch": Build("mobilenet_v2", 2_223_872, 0, 104),
            "keras": Build("MobileNetV2", 2_223_872, 34_112, 104),
        },
    ),
    "efficientnet_b0": BackboneInfo(
        1280,
        "ceil",
        {
            "torch": Build("efficientnet_b0", 4_007_548, 0, 130),
            "keras": Build("EfficientNetB0", 4_007_548, 42_023, 131),
        },
    ),
}

MIN_SIZE = 32


class Backbone(Callable_):
    """`base: name(weights=imagenet|none|"file", trainable=true)`: a pretrained network, no classifier."""

    kind: ClassVar[str] = "backbone"
    positional = ()

    weights: Annotated[str, Field(min_length=1, max_length=4096)] | None = "imagenet"
    trainable: bool = True

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: str | None) -> str | None:
        return "imagenet" if value is not None and value.lower() == "imagenet" else value

    @property
    def info(self) -> BackboneInfo:
        return INFO[type(self).call_name]

    @property
    def weights_file(self) -> str | None:
        """A local weights path, when `weights` names a file."""
        return None if self.weights in (None, "imagenet") else self.weights

    def supports(self, target: Target) -> bool:
        """Whether the target's library ships this backbone."""
        return target in self.info.builds

    def infer(self, shape: Shape) -> Shape:
        """The last feature map (height, width, channels) for an image input."""
        name = type(self).call_name
        if len(shape) != 3 or shape[2] != 3:
            raise ShapeProblem(
                "SPC207",
                f"{name} takes (height, width, 3) images, got input {fmt(shape)}",
                "pretrained backbones take RGB images: input: (224, 224, 3)",
            )
        if min(shape[:2]) < MIN_SIZE:
            raise ShapeProblem(
                "SPC207",
                f"{name} needs images of at least {MIN_SIZE}x{MIN_SIZE} pixels, got {shape[0]}x{shape[1]}",
                "use a larger input, e.g. input: (224, 224, 3)",
            )
        rnd = math.ceil if self.info.rounding == "ceil" else math.floor
        return (rnd(shape[0] / 32), rnd(shape[1] / 32), self.info.channels)

    def count(self, target: Target) -> tuple[int, int]:
        """(trainable-able, always non-trainable) counts for the target; (0, 0) if unsupported."""
        build = self.info.builds.get(target)
        return (build.trainable, build.non_trainable) if build else (0, 0)


def _register(name: str) -> None:
    cls = type(name, (Backbone,), {"__doc__": Backbone.__doc__, "__module__": __name__})
    BACKBONES.add(name)(cls)


for _name in INFO:
    _register(_name)
