"""Core layers: Dense, Dropout, Flatten, activations and Reshape."""

from __future__ import annotations

import math
from typing import Annotated, ClassVar

from pydantic import Field, field_validator

from specc.callable import Activation as ActivationName
from specc.callable import Target
from specc.layers.base import LAYERS, Layer, Shape, ShapeProblem, fmt, need_rank
from specc.regularizers import Regularizer

Units = Annotated[int, Field(ge=1, le=1_000_000)]


@LAYERS.add("Dense")
class Dense(Layer):
    """A fully connected layer over the last axis: y = activation(x @ W + b)."""

    positional = ("units",)
    nested = {"kernel_regularizer": "regularizer", "bias_regularizer": "regularizer"}
    has_weights = True

    units: Units
    activation: ActivationName = "linear"
    use_bias: bool = True
    kernel_regularizer: Regularizer | None = None
    bias_regularizer: Regularizer | None = None

    def infer(self, shape: Shape) -> Shape:
        need_rank("Dense", shape, *range(1, 9))
        return (*shape[:-1], self.units)

    def count(self, shape: Shape, target: Target) -> tuple[int, int]:
        return shape[-1] * self.units + (self.units if self.use_bias else 0), 0

    @property
    def activation_name(self) -> str:
        return self.activation


@LAYERS.add("Dropout")
class Dropout(Layer):
    """Randomly zeroes a fraction `rate` of the inputs during training, scaling the rest by 1/(1-rate)."""

    positional = ("rate",)

    rate: Annotated[float, Field(ge=0, lt=1)]


@LAYERS.add("Flatten")
class Flatten(Layer):
    """Flattens everything but the batch axis (channels-last order, as Keras does)."""

    def infer(self, shape: Shape) -> Shape:
        return (math.prod(shape),)


@LAYERS.add("Activation")
class Activation(Layer):
    """Applies a named activation function element-wise (softmax over the last axis)."""

    positional = ("activation",)

    activation: ActivationName

    @property
    def activation_name(self) -> str:
        return self.activation


class _Fixed(Layer):
    """An activation layer with a fixed function."""

    function: ClassVar[str] = "linear"

    @property
    def activation_name(self) -> str:
        return self.function


@LAYERS.add("ReLU")
class ReLU(_Fixed):
    """max(0, x)."""

    function = "relu"


@LAYERS.add("Sigmoid")
class Sigmoid(_Fixed):
    """1 / (1 + exp(-x))."""

    function = "sigmoid"


@LAYERS.add("Tanh")
class Tanh(_Fixed):
    """(exp(x) - exp(-x)) / (exp(x) + exp(-x))."""

    function = "tanh"


@LAYERS.add("Softmax")
class Softmax(_Fixed):
    """exp(x_i) / sum_j exp(x_j) along `axis`."""

    function = "softmax"
    positional = ("axis",)

    axis: int = -1

    def infer(self, shape: Shape) -> Shape:
        # Keras counts the batch axis (axis=1 is the first axis of an example). Only the last
        # axis is supported by both targets, so any other axis is an error, never a silent change.
        if self.axis not in (-1, len(shape)):
            where = "the batch axis" if self.axis == 0 else f"not the last axis of {fmt(shape)}"
            raise ShapeProblem(
                "SPC201",
                f"Softmax axis {self.axis} is {where}; only the last axis is supported",
                f"use axis=-1 (or axis={len(shape)}, counting the batch axis as Keras does)",
                "axis",
            )
        return shape


@LAYERS.add("Reshape")
class Reshape(Layer):
    """Reshapes each example to `target_shape` (one entry may be -1)."""

    positional = ("target_shape",)

    target_shape: tuple[int, ...]

    @field_validator("target_shape")
    @classmethod
    def _dims(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise ValueError("target_shape needs at least one dimension")
        if any(d == 0 or d < -1 for d in value):
            raise ValueError("dimensions must be >= 1 (or one -1)")
        if value.count(-1) > 1:
            raise ValueError("at most one dimension may be -1")
        return value

    def infer(self, shape: Shape) -> Shape:
        size = math.prod(shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if size % known:
                raise ShapeProblem(
                    "SPC204",
                    f"cannot reshape {fmt(shape)} ({size} values) to {fmt(self.target_shape)}",
                    f"the known dimensions must divide {size}",
                    "target_shape",
                )
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if known != size:
            raise ShapeProblem(
                "SPC204",
                f"cannot reshape {fmt(shape)} ({size} values) to {fmt(self.target_shape)} ({known} values)",
                "the target shape must hold the same number of values",
                "target_shape",
            )
        return self.target_shape
