"""Weight regularizers: l1, l2 and l1_l2 (Keras meaning: penalties added to the training loss)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from specc.callable import Callable_, Registry

REGULARIZERS = Registry("regularizer")

Factor = Annotated[float, Field(ge=0)]


class Regularizer(Callable_):
    """A penalty on a weight tensor w added to the loss."""

    def factors(self) -> tuple[float, float]:
        """(l1, l2): the loss gains l1 * sum(|w|) + l2 * sum(w**2)."""
        raise NotImplementedError


@REGULARIZERS.add("l1")
class L1(Regularizer):
    """l1(f): adds f * sum(|w|)."""

    positional = ("l1",)
    l1: Factor = 0.01

    def factors(self) -> tuple[float, float]:
        return self.l1, 0.0


@REGULARIZERS.add("l2")
class L2(Regularizer):
    """l2(f): adds f * sum(w**2)."""

    positional = ("l2",)
    l2: Factor = 0.01

    def factors(self) -> tuple[float, float]:
        return 0.0, self.l2


@REGULARIZERS.add("l1_l2")
class L1L2(Regularizer):
    """l1_l2(l1=a, l2=b): adds a * sum(|w|) + b * sum(w**2)."""

    positional = ("l1", "l2")
    l1: Factor = 0.0
    l2: Factor = 0.0

    def factors(self) -> tuple[float, float]:
        return self.l1, self.l2
