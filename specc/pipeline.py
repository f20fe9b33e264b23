"""The front end as one call: bytes or a path -> Program, raising only SpeccError."""

from __future__ import annotations

import gc
from pathlib import Path

from specc import lower, parse, shapes, validate
from specc.diagnostics import Diagnostic, SpeccError
from specc.ir import Program
from specc.limits import current
from specc.source import Source


def load_source(source: Source, max_layers: int | None = None, max_params: int | None = None) -> Program:
    """Parse, validate and build the IR of a decoded source (unset limits: `limits.current()`)."""
    max_layers = current().max_layers if max_layers is None else max_layers
    max_params = current().max_params if max_params is None else max_params
    # The stages allocate many small objects and free few: the cyclic collector would rescan the
    # growing heap again and again (10,000 layers took twice as long). Nothing here makes cycles
    # that need it, so pause it for the load.
    collecting = gc.isenabled()
    gc.disable()
    try:
        blocks = parse.parse(source)
        _check_layer_count(blocks, source, max_layers)
        spec = validate.validate(blocks, source)
        return shapes.build(spec, max_layers, max_params)
    except SpeccError:
        raise
    except RecursionError:
        raise SpeccError(
            [Diagnostic("SPC010", "the spec is nested too deeply to analyse", file=source.name)]
        ) from None
    finally:
        if collecting:
            gc.enable()


def _check_layer_count(blocks: list[lower.Block], source: Source, max_layers: int) -> None:
    """Refuse an oversized model before validating its layers one by one (a hostile spec is cut short)."""
    for block in blocks:
        count = sum(isinstance(s, lower.LayerStatement) for s in block.statements)
        if block.kind == "model" and count > max_layers:
            raise SpeccError(
                [
                    Diagnostic(
                        "SPC013",
                        f"the model has {count:,} layers; the limit is {max_layers:,}",
                        block.name_span or block.kind_span,
                        source.name,
                        help="raise it with --max-layers",
                    )
                ]
            )


def load_text(text: str | bytes, name: str = "<spec>", path: Path | None = None, **limits: int) -> Program:
    """The IR of spec text (bytes are decoded as UTF-8)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    max_bytes = limits.pop("max_bytes", current().max_bytes)
    return load_source(parse.decode(data, name, path, max_bytes), **limits)


def load(path: Path, **limits: int) -> Program:
    """The IR of a spec file."""
    max_bytes = limits.pop("max_bytes", current().max_bytes)
    return load_source(parse.read(path, max_bytes), **limits)
