"""The validated spec: the model block, the train block and its stages, with source spans."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from specc.backbones import Backbone
from specc.callable import Callable_
from specc.data import DataSource
from specc.layers.base import Layer, Shape
from specc.losses import Loss
from specc.optimizers import Optimizer
from specc.source import Source, Span

T = TypeVar("T", bound=Callable_)

Metric = Literal["accuracy", "mae", "mse"]
METRICS: tuple[str, ...] = Metric.__args__  # type: ignore[attr-defined]
Precision = Literal["fp32", "bf16", "fp16"]


@dataclass(frozen=True)
class Located(Generic[T]):
    """A validated call with the span of the call and of each parameter's value."""

    value: T
    span: Span
    params: dict[str, Span] = field(default_factory=dict)

    def at(self, param: str | None) -> Span:
        """The span of a parameter's value, falling back to the whole call."""
        return self.params.get(param, self.span) if param else self.span


@dataclass(frozen=True)
class LayerDecl:
    """One layer statement: the validated layer, its optional name, and where it is."""

    layer: Located[Layer]
    name: str | None
    name_span: Span | None

    @property
    def span(self) -> Span:
        return self.layer.span


@dataclass(frozen=True)
class Selector:
    """One freeze/unfreeze target: `all`, `base`, `base.last(N)` or a layer name."""

    kind: Literal["all", "base", "base_last", "layer"]
    span: Span
    count: int | None = None
    layer: str | None = None

    def __str__(self) -> str:
        if self.kind == "base_last":
            return f"base.last({self.count})"
        return self.layer if self.kind == "layer" else self.kind  # type: ignore[return-value]


@dataclass(frozen=True)
class ModelSpec:
    """The `model` block."""

    name: str
    name_span: Span
    input: Shape
    input_span: Span
    base: Located[Backbone] | None
    layers: tuple[LayerDecl, ...]
    span: Span


class _Settings(BaseModel):
    """Shared pydantic config of the train and stage settings."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
        arbitrary_types_allowed=True,
        defer_build=True,
    )


Epochs = Annotated[int, Field(ge=1, le=1_000_000)]
BatchSize = Annotated[int, Field(ge=1, le=1_000_000)]


class TrainSettings(_Settings):
    """The settings of the `train` block (the first phase of training, called `main`)."""

    data: DataSource | None = None
    loss: Loss | None = None
    optimizer: Optimizer | None = None
    epochs: Epochs = 10
    batch_size: BatchSize = 32
    metrics: list[Metric] = []
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0
    compile: bool = False
    precision: Precision = "fp32"


class StageSettings(_Settings):
    """What a `stage` may override; unset fields inherit from the phase before."""

    loss: Loss | None = None
    optimizer: Optimizer | None = None
    epochs: Epochs | None = None
    batch_size: BatchSize | None = None
    metrics: list[Metric] | None = None


# Settings holding a call resolved in a registry, by setting name.
CALL_SETTINGS = {"data": "data source", "loss": "loss", "optimizer": "optimizer"}
SELECTOR_SETTINGS = ("unfreeze", "freeze")


@dataclass(frozen=True)
class StageSpec:
    """One `stage <name> { ... }` block."""

    name: str
    name_span: Span
    settings: StageSettings
    spans: dict[str, Span]
    calls: dict[str, Located[Any]]
    unfreeze: tuple[Selector, ...]
    freeze: tuple[Selector, ...]
    span: Span


@dataclass(frozen=True)
class TrainSpec:
    """The `train` block and its stages."""

    settings: TrainSettings
    spans: dict[str, Span]
    calls: dict[str, Located[Any]]
    stages: tuple[StageSpec, ...]
    span: Span


@dataclass(frozen=True)
class Spec:
    """A whole validated spec file."""

    source: Source
    model: ModelSpec
    train: TrainSpec | None
