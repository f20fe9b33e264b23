"""Every layer specc knows; importing this package registers them all in LAYERS."""

from specc.layers import conv, core, embedding, normalization, pooling, recurrent
from specc.layers.base import LAYERS, Layer, Shape, ShapeProblem

__all__ = [
    "LAYERS",
    "Layer",
    "Shape",
    "ShapeProblem",
    "conv",
    "core",
    "embedding",
    "normalization",
    "pooling",
    "recurrent",
]
