"""Pooling layers: max/average windows and global pooling, channels last."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from specc.layers.base import LAYERS, Layer, Shape, ShapeProblem, fmt, need_rank
from specc.layers.conv import Padding, slide, window

Positive = Annotated[int, Field(ge=1, le=100_000)]


class _Pool(Layer):
    """A sliding max or average window; strides default to the pool size."""

    rank: ClassVar[int] = 2
    positional = ("pool_size",)

    pool_size: Positive | tuple[Positive, ...] = 2
    strides: Positive | tuple[Positive, ...] | None = None
    padding: Padding = "valid"

    @property
    def pool(self) -> tuple[int, ...]:
        return window(self.pool_size, self.rank)

    @property
    def stride(self) -> tuple[int, ...]:
        return window(self.strides, self.rank) if self.strides is not None else self.pool

    def infer(self, shape: Shape) -> Shape:
        name = type(self).call_name
        need_rank(name, shape, self.rank + 1)
        for param, size in (("pool_size", self.pool), ("strides", self.stride)):
            if len(size) != self.rank:
                raise ShapeProblem(
                    "SPC201",
                    f"{name} {param} needs {self.rank} values, got {fmt(size)}",
                    f"give one int or a {self.rank}-tuple",
                    param,
                )
        return (
            *slide(name, shape[:-1], self.pool, self.stride, self.padding, "pool_size"),
            shape[-1],
        )


@LAYERS.add("MaxPooling1D", "MaxPool1D")
class MaxPooling1D(_Pool):
    """Maximum over windows of `pool_size` steps."""

    rank = 1


@LAYERS.add("AveragePooling1D", "AvgPool1D")
class AveragePooling1D(_Pool):
    """Mean over windows of `pool_size` steps."""

    rank = 1


@LAYERS.add("MaxPooling2D", "MaxPool2D")
class MaxPooling2D(_Pool):
    """Maximum over `pool_size` windows of an image."""

    rank = 2


@LAYERS.add("AveragePooling2D", "AvgPool2D")
class AveragePooling2D(_Pool):
    """Mean over `pool_size` windows of an image (padding excluded from the mean)."""

    rank = 2


class _Global(Layer):
    """Reduces every spatial axis, keeping the channels."""

    rank: ClassVar[int] = 2

    def infer(self, shape: Shape) -> Shape:
        need_rank(type(self).call_name, shape, self.rank + 1)
        return (shape[-1],)


@LAYERS.add("GlobalAveragePooling1D")
class GlobalAveragePooling1D(_Global):
    """Mean over the steps axis."""

    rank = 1


@LAYERS.add("GlobalMaxPooling1D")
class GlobalMaxPooling1D(_Global):
    """Maximum over the steps axis."""

    rank = 1


@LAYERS.add("GlobalAveragePooling2D")
class GlobalAveragePooling2D(_Global):
    """Mean over height and width."""

    rank = 2


@LAYERS.add("GlobalMaxPooling2D")
class GlobalMaxPooling2D(_Global):
    """Maximum over height and width."""

    rank = 2
