"""Optimizers with specc's own defaults, written out in every generated program."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from specc.callable import Callable_, Registry

OPTIMIZERS = Registry("optimizer")

LearningRate = Annotated[float, Field(gt=0, le=100)]
Decay = Annotated[float, Field(ge=0, lt=1)]
Beta = Annotated[float, Field(ge=0, lt=1)]
Epsilon = Annotated[float, Field(gt=0, le=1)]
Momentum = Annotated[float, Field(ge=0, lt=1)]


class Optimizer(Callable_):
    """Updates the trainable parameters from their gradients."""

    positional = ("learning_rate",)
    aliases = {"lr": "learning_rate"}

    learning_rate: LearningRate
    # Coupled L2 (grad += wd * w), as torch's SGD/Adam/RMSprop; AdamW overrides with decoupled.
    weight_decay: Decay = 0.0

    @property
    def decoupled(self) -> bool:
        """Whether weight decay is applied to the weights directly (AdamW) rather than the gradient."""
        return False


@OPTIMIZERS.add("SGD")
class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum."""

    learning_rate: LearningRate = 0.01
    momentum: Momentum = 0.0
    nesterov: bool = False

    @model_validator(mode="after")
    def _nesterov_needs_momentum(self) -> SGD:
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov=true needs momentum > 0")
        return self


@OPTIMIZERS.add("Adam")
class Adam(Optimizer):
    """Adaptive moment estimation."""

    learning_rate: LearningRate = 0.001
    beta_1: Beta = 0.9
    beta_2: Beta = 0.999
    epsilon: Epsilon = 1e-7


@OPTIMIZERS.add("RMSprop")
class RMSprop(Optimizer):
    """Divides the gradient by a moving root mean square of recent gradients."""

    learning_rate: LearningRate = 0.001
    rho: Beta = 0.9
    momentum: Momentum = 0.0
    epsilon: Epsilon = 1e-7


@OPTIMIZERS.add("AdamW")
class AdamW(Optimizer):
    """Adam with decoupled weight decay: w -= lr * weight_decay * w."""

    learning_rate: LearningRate = 0.001
    beta_1: Beta = 0.9
    beta_2: Beta = 0.999
    epsilon: Epsilon = 1e-7
    weight_decay: Decay = 0.004

    @property
    def decoupled(self) -> bool:
        return True
