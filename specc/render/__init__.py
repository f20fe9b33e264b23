"""Diagnostic output formats: one module per format, registered by name."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from specc.diagnostics import Diagnostic
from specc.source import Source

Renderer = Callable[[Sequence[Diagnostic], dict[str, Source], bool], str]


def renderer(name: str) -> Renderer:
    """The render function of a format; importing lazily keeps start-up fast."""
    from importlib import import_module

    return import_module(f"specc.render.{FORMATS[name]}").render  # type: ignore[no-any-return]


# format name -> module in specc.render; a new format is one module and one row here.
FORMATS: dict[str, str] = {"text": "text", "json": "json_format", "github": "github", "sarif": "sarif"}
