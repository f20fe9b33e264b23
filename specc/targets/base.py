"""What every target shares: emit options, the common compile checks, and the layer-coverage contract."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from specc import __version__
from specc.diagnostics import Collector, Diagnostic
from specc.ir import Program
from specc.layers import LAYERS


@dataclass(frozen=True)
class EmitOptions:
    """How to write a program: plain or with teaching comments, in English or Korean."""

    teach: bool = False
    lang: str = "en"


def header_name(program: Program) -> str:
    """The spec's file name as shown in the generated header (never a full local path)."""
    from pathlib import PurePath

    return PurePath(program.file).name


def common_checks(
    program: Program,
    target: str,
    backbones: Mapping[str, object],
    unsupported_layers: Mapping[str, str],
) -> list[Diagnostic]:
    """Compile-time errors every target reports: no train block, missing backbones and layers."""
    out = Collector(program.file)
    if program.train is None:
        out.add(
            "SPC303",
            "compiling needs a `train` block",
            program.spec.model.span,
            help="add `train { data: digits() loss: ... optimizer: Adam() }`",
        )
    base = program.model.base
    if base is not None and base.name not in backbones:
        shipped = ", ".join(sorted(backbones))
        out.add(
            "SPC301",
            f"`{base.name}` is not available for the {target} target",
            base.span,
            help=f"{target} ships: {shipped}",
        )
    for node in program.model.layers:
        if node.type in unsupported_layers:
            out.add(
                "SPC302",
                f"{node.type} cannot be compiled for {target}: {unsupported_layers[node.type]}",
                node.span,
            )
    return out.items


def missing_emitters(emitters: Mapping[str, Callable[..., Any]], unsupported: Mapping[str, str]) -> list[str]:
    """Layer types a target neither emits nor declares unsupported (must be empty; tested)."""
    names = set(LAYERS.canonical.values())
    return sorted(names - set(emitters) - set(unsupported))


VERSION = __version__
