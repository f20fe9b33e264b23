"""Losses, computed on what the model outputs (probabilities unless from_logits=true)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from specc.callable import Callable_, Registry

LOSSES = Registry("loss")

Smoothing = Annotated[float, Field(ge=0, lt=1)]


class Loss(Callable_):
    """A training loss."""

    # What the labels must be: integer classes, binary 0/1, or real-valued targets.
    labels: ClassVar[Literal["sparse", "onehot", "binary", "real"]] = "real"

    @property
    def classification(self) -> bool:
        """Whether the loss compares class probabilities with class labels."""
        return self.labels != "real"


@LOSSES.add("mse", "mean_squared_error")
class MeanSquaredError(Loss):
    """mean((y - y_hat)**2)."""


@LOSSES.add("mae", "mean_absolute_error")
class MeanAbsoluteError(Loss):
    """mean(|y - y_hat|)."""


@LOSSES.add("huber")
class Huber(Loss):
    """Quadratic for errors below `delta`, linear above it."""

    positional = ("delta",)
    delta: Annotated[float, Field(gt=0)] = 1.0


@LOSSES.add("binary_crossentropy")
class BinaryCrossentropy(Loss):
    """-(y log p + (1 - y) log(1 - p)) with one sigmoid output unit."""

    labels = "binary"
    from_logits: bool = False
    label_smoothing: Smoothing = 0.0


@LOSSES.add("categorical_crossentropy")
class CategoricalCrossentropy(Loss):
    """-sum(y log p) against one-hot labels (the program one-hot encodes integer classes)."""

    labels = "onehot"
    from_logits: bool = False
    label_smoothing: Smoothing = 0.0


@LOSSES.add("sparse_categorical_crossentropy")
class SparseCategoricalCrossentropy(Loss):
    """-log p[label] against integer class labels."""

    labels = "sparse"
    from_logits: bool = False
