"""Normalization layers: BatchNormalization and LayerNormalization over the last axis."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from specc.callable import Target
from specc.layers.base import LAYERS, Layer, Shape

Epsilon = Annotated[float, Field(gt=0, le=1)]


@LAYERS.add("BatchNormalization")
class BatchNormalization(Layer):
    """Normalizes each channel by batch statistics in training and moving averages in inference."""

    has_weights = True

    momentum: Annotated[float, Field(ge=0, lt=1)] = 0.99
    epsilon: Epsilon = 1e-3

    def count(self, shape: Shape, target: Target) -> tuple[int, int]:
        channels = shape[-1]
        # Keras counts the moving mean and variance as non-trainable weights; torch keeps
        # them as buffers, outside model.parameters().
        return 2 * channels, 2 * channels if target == "keras" else 0


@LAYERS.add("LayerNormalization")
class LayerNormalization(Layer):
    """Normalizes each example over its last axis, then scales and shifts."""

    has_weights = True

    epsilon: Epsilon = 1e-3

    def count(self, shape: Shape, target: Target) -> tuple[int, int]:
        return 2 * shape[-1], 0
