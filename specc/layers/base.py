"""The Layer base class, the layer registry, and the shape problems layers report."""

from __future__ import annotations

from typing import ClassVar

from specc.callable import Callable_, Registry, Target

Shape = tuple[int, ...]

LAYERS = Registry("layer")


class ShapeProblem(Exception):
    """A layer cannot take the shape it receives; `param` names the argument to point at."""

    def __init__(self, code: str, message: str, help: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.help, self.param = code, message, help, param


def fmt(shape: Shape) -> str:
    """A shape as the spec writes it."""
    return f"({shape[0]},)" if len(shape) == 1 else "(" + ", ".join(map(str, shape)) + ")"


def need_rank(layer: str, shape: Shape, *ranks: int, help: str | None = None) -> None:
    """Raise a shape-mismatch problem unless the input has one of `ranks` dimensions."""
    if len(shape) not in ranks:
        wanted = " or ".join(str(r) for r in ranks)
        raise ShapeProblem(
            "SPC201",
            f"{layer} expects an input of rank {wanted} (without the batch), got {fmt(shape)}",
            help,
        )


class Layer(Callable_):
    """One layer of the sequential stack: parameters, validation, shape rule and parameter count."""

    kind: ClassVar[str] = "layer"
    # Whether the layer has weights (a freeze/unfreeze target that changes anything).
    has_weights: ClassVar[bool] = False
    # Whether the layer can only be first (it consumes integer token ids).
    first_only: ClassVar[bool] = False

    trainable: bool = True

    def infer(self, shape: Shape) -> Shape:
        """The output shape for an input shape (no batch dimension)."""
        return shape

    def count(self, shape: Shape, target: Target) -> tuple[int, int]:
        """(trainable-able, always non-trainable) parameter counts as `target` counts them."""
        return 0, 0

    @property
    def activation_name(self) -> str | None:
        """The activation this layer applies at its output, if it is an activation at all."""
        return None
