"""The base of everything a spec calls by name (layers, losses, optimizers, ...) and their registries."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

Target = Literal["torch", "keras"]
TARGETS: tuple[Target, ...] = ("torch", "keras")

Activation = Literal[
    "linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "gelu", "silu", "softplus"
]
ACTIVATIONS: tuple[str, ...] = Activation.__args__  # type: ignore[attr-defined]


class Callable_(BaseModel):
    """A validated call from a spec: `Name(positional..., key=value...)`."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)

    kind: ClassVar[str] = "call"
    call_name: ClassVar[str] = ""
    positional: ClassVar[tuple[str, ...]] = ()
    aliases: ClassVar[dict[str, str]] = {}
    # Parameters whose value is itself a call resolved in another registry (e.g. a regularizer).
    nested: ClassVar[dict[str, str]] = {}

    def options(self) -> dict[str, Any]:
        """The parameters as written out in full (defaults included), for code generation."""
        return self.model_dump()

    def explicit(self) -> dict[str, Any]:
        """Only the parameters the spec set."""
        return {k: getattr(self, k) for k in self.model_fields_set}


class Registry:
    """Named callables of one kind (layers, losses, ...), with aliases."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.entries: dict[str, type[Callable_]] = {}
        self.canonical: dict[str, str] = {}

    def add(self, *names: str):
        """Class decorator: register under the first name, with the rest as aliases."""

        def wrap(cls: type[Callable_]) -> type[Callable_]:
            cls.call_name = names[0]
            cls.kind = self.kind
            for name in names:
                if name in self.entries:
                    raise ValueError(f"{self.kind} {name!r} registered twice")
                self.entries[name] = cls
                self.canonical[name] = names[0]
            return cls

        return wrap

    def get(self, name: str) -> type[Callable_] | None:
        """The class registered under `name` or one of its aliases."""
        return self.entries.get(name)

    def names(self) -> list[str]:
        """Every accepted name, aliases included."""
        return list(self.entries)

    def primary(self) -> list[str]:
        """The canonical names only."""
        return sorted(set(self.canonical.values()))
