"""The explanation texts (texts.toml) as typed data: one Concept per key, in English or Korean."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

LANGS: tuple[str, ...] = ("en", "ko")


@dataclass(frozen=True)
class Concept:
    """One concept in one language: title, one-line comment, lesson paragraph and formula."""

    key: str
    title: str
    short: str
    text: str
    formula: str


def _paragraph(text: str) -> str:
    """Join the TOML source lines of a paragraph into one line (line breaks there are layout only)."""
    return " ".join(line.strip() for line in text.strip().splitlines() if line.strip())


@cache
def _data() -> dict[str, Any]:
    """The parsed texts.toml, shipped inside the package."""
    raw = resources.files("specc.teach").joinpath("texts.toml").read_text(encoding="utf-8")
    return tomllib.loads(raw)


def check_lang(lang: str) -> str:
    """The language code, or ValueError naming the supported ones."""
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}; use one of: {', '.join(LANGS)}")
    return lang


def keys() -> list[str]:
    """Every concept key, in the file's order."""
    return list(_data()["concept"])


def concept(key: str, lang: str) -> Concept:
    """The concept `key` in `lang` (KeyError for an unknown concept)."""
    entry = _data()["concept"][key]
    local = entry[check_lang(lang)]
    return Concept(
        key=key,
        title=local["title"],
        short=_paragraph(local["short"]),
        text=_paragraph(local["text"]),
        # A formula written in words may be translated; a pure formula is shared by the languages.
        formula=local.get("formula", entry["formula"]),
    )


def ui(key: str, lang: str) -> str:
    """A user-interface string (a heading or label) in `lang`."""
    return str(_data()["ui"][check_lang(lang)][key])


def note(key: str, lang: str, **values: object) -> str:
    """A comment for a lesson's code snippet, with validated numbers or names filled in."""
    return str(_data()["note"][check_lang(lang)][key]).format(**values)


def note_keys(lang: str) -> list[str]:
    """Every snippet-comment key defined for `lang`."""
    return list(_data()["note"][check_lang(lang)])


def ui_keys(lang: str) -> list[str]:
    """Every user-interface string key defined for `lang`."""
    return list(_data()["ui"][check_lang(lang)])
