"""The one literal encoder: every value that comes from a spec reaches generated code through here."""

from __future__ import annotations

import math
from typing import Any


def literal(value: Any) -> str:
    """A Python source literal for a plain value (str, int, float, bool, None, tuple, list, dict).

    Anything else is refused, so spec text can only ever become data in a generated program.
    """
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"non-finite float {value!r} cannot be a literal")
        return repr(float(value))
    if isinstance(value, str):
        # repr escapes quotes, backslashes and every non-printable character.
        text = repr(str(value))
        return '"' + text[1:-1].replace('"', '\\"').replace("\\'", "'") + '"' if text[0] == "'" else text
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"{type(value).__name__} cannot be a literal in generated code")
