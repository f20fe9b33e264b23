"""Embedding: integer token ids -> dense vectors."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from specc.callable import Target
from specc.layers.base import LAYERS, Layer, Shape, need_rank


@LAYERS.add("Embedding")
class Embedding(Layer):
    """Looks up a vector of `output_dim` values for each token id in [0, input_dim)."""

    positional = ("input_dim", "output_dim")
    has_weights = True
    first_only = True

    input_dim: Annotated[int, Field(ge=1, le=100_000_000)]
    output_dim: Annotated[int, Field(ge=1, le=1_000_000)]

    def infer(self, shape: Shape) -> Shape:
        need_rank("Embedding", shape, 1, help="the input of an Embedding is (steps,) token ids")
        return (*shape, self.output_dim)

    def count(self, shape: Shape, target: Target) -> tuple[int, int]:
        return self.input_dim * self.output_dim, 0
