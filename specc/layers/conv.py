"""Convolution layers: Conv1D and Conv2D, channels last."""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from specc.callable import Activation as ActivationName
from specc.callable import Target
from specc.layers.base import LAYERS, Layer, Shape, ShapeProblem, fmt, need_rank
from specc.regularizers import Regularizer

Positive = Annotated[int, Field(ge=1, le=100_000)]
Padding = Literal["valid", "same"]


def window(size: int | tuple[int, ...], rank: int) -> tuple[int, ...]:
    """A kernel, pool or stride size given as one int or a tuple, as a tuple of `rank` ints."""
    return (size,) * rank if isinstance(size, int) else tuple(size)


def sliding(n: int, k: int, s: int, padding: str) -> int:
    """Output length of a sliding window (Keras/TF rule: `same` gives ceil(n / s))."""
    return math.ceil(n / s) if padding == "same" else (n - k) // s + 1


def slide(
    layer: str,
    dims: Shape,
    kernel: tuple[int, ...],
    strides: tuple[int, ...],
    padding: str,
    param: str,
) -> Shape:
    """Spatial output dims, or a kernel-too-large problem."""
    if len(kernel) != len(dims) or len(strides) != len(dims):
        raise ShapeProblem(
            "SPC201",
            f"{layer} needs {len(dims)} window sizes, got {fmt(kernel)}",
            f"give one int or a {len(dims)}-tuple",
            param,
        )
    if padding == "valid" and any(k > n for k, n in zip(kernel, dims)):
        raise ShapeProblem(
            "SPC202",
            f"{layer} window {fmt(kernel)} is larger than its input {fmt(dims)}",
            "use padding=same or a smaller window",
            param,
        )
    return tuple(sliding(n, k, s, padding) for n, k, s in zip(dims, kernel, strides))


class _Conv(Layer):
    """Shared parameters and rules of the convolutions."""

    rank: ClassVar[int] = 2
    positional = ("filters", "kernel_size")
    nested = {"kernel_regularizer": "regularizer", "bias_regularizer": "regularizer"}
    has_weights = True

    filters: Positive
    kernel_size: Positive | tuple[Positive, ...]
    strides: Positive | tuple[Positive, ...] = 1
    padding: Padding = "valid"
    activation: ActivationName = "linear"
    use_bias: bool = True
    kernel_regularizer: Regularizer | None = None
    bias_regularizer: Regularizer | None = None

    @property
    def kernel(self) -> tuple[int, ...]:
        return window(self.kernel_size, self.rank)

    @property
    def stride(self) -> tuple[int, ...]:
        return window(self.strides, self.rank)

    def infer(self, shape: Shape) -> Shape:
        name = type(self).call_name
        need_rank(
            name,
            shape,
            self.rank + 1,
            help="Conv1D takes (steps, channels); Conv2D takes "
            "(height, width, channels); add Reshape if the data is flat",
        )
        for param, size in (("kernel_size", self.kernel), ("strides", self.stride)):
            if len(size) != self.rank:
                raise ShapeProblem(
                    "SPC201",
                    f"{name} {param} needs {self.rank} values, got {fmt(size)}",
                    f"give one int or a {self.rank}-tuple",
                    param,
                )
        dims = slide(name, shape[:-1], self.kernel, self.stride, self.padding, "kernel_size")
        return (*dims, self.filters)

    def count(self, shape: Shape, target: Target) -> tuple[int, int]:
        weights = math.prod(self.kernel) * shape[-1] * self.filters
        return weights + (self.filters if self.use_bias else 0), 0

    @property
    def activation_name(self) -> str:
        return self.activation


@LAYERS.add("Conv1D")
class Conv1D(_Conv):
    """1-D convolution over (steps, channels)."""

    rank = 1


@LAYERS.add("Conv2D")
class Conv2D(_Conv):
    """2-D convolution over (height, width, channels)."""

    rank = 2
