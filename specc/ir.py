"""The frozen IR that lint rules and code generators read: resolved shapes, counts and phases."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from specc.backbones import Backbone
from specc.callable import Target
from specc.data import DataSource
from specc.layers.base import Layer, Shape
from specc.losses import Loss
from specc.optimizers import Optimizer
from specc.source import Span
from specc.spec import Located, Spec

# Layers that pass values through unchanged in meaning, looking for the output activation.
_TRANSPARENT = ("Dropout", "Flatten", "Reshape")


@dataclass(frozen=True)
class Count:
    """Parameters as one framework counts them."""

    trainable: int
    non_trainable: int

    @property
    def total(self) -> int:
        return self.trainable + self.non_trainable

    def __add__(self, other: Count) -> Count:
        return Count(self.trainable + other.trainable, self.non_trainable + other.non_trainable)


ZERO = Count(0, 0)


@dataclass(frozen=True)
class LayerNode:
    """One layer with its resolved name, shapes and per-target parameter counts."""

    index: int
    name: str
    named: bool
    layer: Layer
    located: Located[Layer]
    in_shape: Shape
    out_shape: Shape
    counts: dict[str, Count]
    trainable: bool

    @property
    def type(self) -> str:
        return type(self.layer).call_name

    @property
    def span(self) -> Span:
        return self.located.span


@dataclass(frozen=True)
class BaseNode:
    """The pretrained backbone in front of the layers."""

    backbone: Backbone
    located: Located[Backbone]
    in_shape: Shape
    out_shape: Shape
    counts: dict[str, Count]

    @property
    def name(self) -> str:
        return type(self.backbone).call_name

    @property
    def span(self) -> Span:
        return self.located.span


@dataclass(frozen=True)
class ModelIR:
    """The network: input, optional backbone, the layer stack."""

    name: str
    input_shape: Shape
    base: BaseNode | None
    layers: tuple[LayerNode, ...]

    @property
    def output_shape(self) -> Shape:
        if self.layers:
            return self.layers[-1].out_shape
        return self.base.out_shape if self.base else self.input_shape

    @property
    def token_input(self) -> bool:
        """Whether the input is integer token ids (the first layer is an Embedding)."""
        return bool(self.layers) and type(self.layers[0].layer).first_only

    @property
    def output_activation(self) -> str:
        """The activation the model applies last: softmax, sigmoid, linear, ..."""
        for node in reversed(self.layers):
            if node.type in _TRANSPARENT:
                continue
            return node.layer.activation_name or "linear"
        return "linear"

    @property
    def output_layer(self) -> LayerNode | None:
        """The last layer that is not a pass-through (the classifier head)."""
        for node in reversed(self.layers):
            if node.type not in _TRANSPARENT:
                return node
        return None

    def counts(self, target: Target) -> Count:
        """Total parameters as `target` counts them."""
        total = self.base.counts[target] if self.base else ZERO
        for node in self.layers:
            total = total + node.counts[target]
        return total

    def node(self, name: str) -> LayerNode | None:
        """The layer called `name`."""
        return next((n for n in self.layers if n.name == name), None)


@dataclass(frozen=True)
class Phase:
    """One phase of training: `main` (the train block) or a stage, with everything resolved."""

    name: str
    loss: Loss
    optimizer: Optimizer
    epochs: int
    batch_size: int
    metrics: tuple[str, ...]
    trainable: frozenset[str]  # names of the layers that train in this phase
    base: int | None  # backbone: None = every layer trains, 0 = frozen, N = the last N train
    rebuild: bool  # the trainable set or the optimizer changed: rebuild (Keras: recompile)
    span: Span
    spans: dict[str, Span]
    calls: dict[str, Located[Any]]

    @property
    def base_frozen(self) -> bool:
        return self.base == 0


@dataclass(frozen=True)
class TrainPlan:
    """Data, reproducibility settings and the phases, in order."""

    data: DataSource
    data_at: Located[DataSource]
    seed: int
    compile: bool
    precision: str
    phases: tuple[Phase, ...]
    span: Span


@dataclass(frozen=True)
class Program:
    """The whole IR of a spec."""

    spec: Spec
    model: ModelIR
    train: TrainPlan | None

    @property
    def file(self) -> str:
        return self.spec.source.name


def snake(name: str) -> str:
    """Conv2D -> conv2d, BatchNormalization -> batch_normalization."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()
