"""Recurrent layers: SimpleRNN, LSTM and GRU over (steps, features)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from specc.callable import Target
from specc.layers.base import LAYERS, Layer, Shape, need_rank


class _Recurrent(Layer):
    """A recurrent layer: `gates` weight blocks; torch keeps two bias vectors, Keras one or two."""

    gates: ClassVar[int] = 1
    keras_biases: ClassVar[int] = 1
    positional = ("units",)
    has_weights = True

    units: Annotated[int, Field(ge=1, le=100_000)]
    return_sequences: bool = False

    def infer(self, shape: Shape) -> Shape:
        need_rank(
            type(self).call_name,
            shape,
            2,
            help="recurrent layers take (steps, features); add Reshape or an Embedding",
        )
        return (shape[0], self.units) if self.return_sequences else (self.units,)

    def count(self, shape: Shape, target: Target) -> tuple[int, int]:
        g, u = self.gates, self.units
        weights = g * u * (shape[-1] + u)
        biases = 2 if target == "torch" else self.keras_biases
        return weights + biases * g * u, 0


@LAYERS.add("SimpleRNN")
class SimpleRNN(_Recurrent):
    """h_t = tanh(x_t W + h_{t-1} U + b)."""

    gates = 1


@LAYERS.add("LSTM")
class LSTM(_Recurrent):
    """Long short-term memory: input, forget, cell and output gates."""

    gates = 4


@LAYERS.add("GRU")
class GRU(_Recurrent):
    """Gated recurrent unit (reset gate after the matrix product, as torch and Keras 3 do)."""

    gates = 3
    keras_biases = 2
