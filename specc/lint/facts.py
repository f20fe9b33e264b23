"""Facts several rules need, read from the IR: loss and optimizer sites, outputs, classes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from specc.ir import LayerNode, Phase, Program
from specc.losses import Loss
from specc.optimizers import Optimizer
from specc.source import Span
from specc.spec import Located

# Output activations after which a loss sees probabilities.
PROBABILITY = ("softmax", "sigmoid")
# Layers that never change what flows through them in inference.
TRANSPARENT = ("Dropout", "Flatten", "Reshape")
ADAPTIVE = ("Adam", "AdamW", "RMSprop")
NORMALIZATION = ("BatchNormalization", "LayerNormalization")


@dataclass(frozen=True)
class LossSite:
    """A loss as one phase declares it (the train block, or a stage overriding it)."""

    phase: Phase
    loss: Loss
    span: Span

    @property
    def name(self) -> str:
        return type(self.loss).call_name

    @property
    def from_logits(self) -> bool:
        return bool(param(self.loss, "from_logits", False))

    def at(self, param: str) -> Span:
        """The span of one of the loss's arguments, else of the loss."""
        located = self.phase.calls.get("loss")
        return located.at(param) if located is not None else self.span


@dataclass(frozen=True)
class OptimizerSite:
    """The optimizer a phase declares; `main` without `optimizer:` gets specc's default Adam."""

    phase: Phase
    optimizer: Optimizer
    located: Located[Optimizer] | None

    @property
    def name(self) -> str:
        return type(self.optimizer).call_name

    @property
    def span(self) -> Span:
        return self.located.span if self.located else self.phase.span

    def at(self, param: str) -> Span:
        """The span of an argument's value, else of the call (or of the block for the default)."""
        return self.located.at(param) if self.located else self.phase.span

    @property
    def where(self) -> str:
        """How to name the phase in a message."""
        return "the train block" if self.phase.name == "main" else f"stage `{self.phase.name}`"


def param(obj: object, name: str, default: Any = None) -> Any:
    """A call's parameter when its class has it, else `default`.

    Cheaper than getattr with a default: pydantic answers a missing attribute through a slow
    exception path.
    """
    return getattr(obj, name) if name in type(obj).model_fields else default  # type: ignore[attr-defined]


def phases(program: Program) -> tuple[Phase, ...]:
    """The training phases in order (none without a train block)."""
    return program.train.phases if program.train else ()


def loss_sites(program: Program) -> Iterator[LossSite]:
    """Each place a loss is declared: the train block, then stages that override `loss:`."""
    for phase in phases(program):
        located = phase.calls.get("loss")
        if located is not None:
            yield LossSite(phase, located.value, located.span)


def optimizer_sites(program: Program) -> Iterator[OptimizerSite]:
    """Each optimizer in effect where it is declared: the train block (even by default), then stages."""
    for phase in phases(program):
        located = phase.calls.get("optimizer")
        if located is not None or phase.name == "main":
            yield OptimizerSite(phase, phase.optimizer, located)


def head(program: Program) -> LayerNode | None:
    """The classifier head: the last layer that is not a pass-through."""
    return program.model.output_layer


def head_span(program: Program, param: str | None = None) -> Span:
    """Where to point at the output: the head's argument, the head, or the model name."""
    node = head(program)
    if node is not None:
        return node.located.at(param)
    return program.spec.model.name_span


def output_units(program: Program) -> int | None:
    """The size of a flat output, else None."""
    shape = program.model.output_shape
    return shape[0] if len(shape) == 1 else None


def classes(program: Program) -> int | None:
    """How many classes the data delivers, when known statically."""
    if program.spec.train is None:
        return None
    from specc.shapes import classes_of

    return classes_of(program.spec.train)


def regression_data(program: Program) -> bool:
    """Whether the data is known to have real-valued targets (e.g. diabetes())."""
    info = program.train.data.info if program.train else None
    return info is not None and info.classes is None


def activation_of(node: LayerNode) -> str | None:
    """The activation a layer applies at its output (None for layers that are no activation)."""
    return node.layer.activation_name


def trainable_layers(phase: Phase) -> frozenset[str]:
    """Names of the layers with weights that train in a phase."""
    return phase.trainable


def backbone_trains(phase: Phase) -> bool:
    """Whether any part of the backbone trains in this phase."""
    return phase.base != 0


def plural(n: int, word: str) -> str:
    """`1 layer`, `2 layers`."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def number(value: float) -> str:
    """A float as a spec would write it: 0.001 -> 1e-3 style only when short."""
    text = repr(value)
    if "e" in text:
        mantissa, exp = text.split("e")
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        return f"{mantissa}e{int(exp)}"
    if 0 < abs(value) < 1e-3:
        return f"{value:.0e}".replace("e-0", "e-")
    return text
