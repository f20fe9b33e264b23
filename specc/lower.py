"""Syntax tree -> plain located data: blocks, settings, layer statements, calls and values."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Union

from lark import Token, Tree

from specc.diagnostics import Collector
from specc.source import Source, Span

MAX_DIGITS = 30
# Line breaks beyond \n and the characters that reorder text on screen (Trojan Source).
_FORBIDDEN = {"\u2028", "\u2029", "\u0085", "\u061c", "\u200e", "\u200f"} | {
    chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
}
_CONSTANTS = {"true": True, "false": False, "none": None}


@dataclass(frozen=True, slots=True)
class Name:
    """A bare identifier used as a value: an enum choice such as `relu` or `imagenet`."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Value:
    """A value with its source span; `data` is plain Python, a Name, a Call, or a tuple/list of Value."""

    data: Any
    span: Span


@dataclass(frozen=True, slots=True)
class Keyword:
    """A `key=value` argument."""

    key: str
    key_span: Span
    value: Value


@dataclass(frozen=True, slots=True)
class Call:
    """`name(args..., key=value...)`; the name may be dotted (`base.last`)."""

    name: str
    name_span: Span
    args: tuple[Value, ...]
    kwargs: tuple[Keyword, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Setting:
    """`key: value`."""

    key: str
    key_span: Span
    value: Value
    span: Span


@dataclass(frozen=True, slots=True)
class LayerStatement:
    """`[name =] Layer(...)`."""

    name: str | None
    name_span: Span | None
    call: Call
    span: Span


@dataclass(slots=True)
class Block:
    """`kind [name] { statements }`."""

    kind: str
    kind_span: Span
    name: str | None
    name_span: Span | None
    statements: list[Statement] = field(default_factory=list)
    span: Span = Span(1, 1, 1, 2)


Statement = Union[Setting, LayerStatement, Block]


def plain(value: Value) -> Any:
    """The plain Python form of a value: names become strings, tuples and lists recurse."""
    data = value.data
    if isinstance(data, Name):
        return data.text
    if isinstance(data, tuple):
        return tuple(plain(v) for v in data)
    if isinstance(data, list):
        return [plain(v) for v in data]
    return data


def describe(value: Value) -> str:
    """How a value reads in the spec, for messages."""
    data = value.data
    if isinstance(data, Call):
        return f"{data.name}(...)"
    if isinstance(data, Name):
        return data.text
    if isinstance(data, bool):
        return "true" if data else "false"
    if data is None:
        return "none"
    if isinstance(data, str):
        return '"' + data.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(data, tuple):
        inner = ", ".join(describe(v) for v in data)
        return f"({inner},)" if len(data) == 1 else f"({inner})"
    if isinstance(data, list):
        return "[" + ", ".join(describe(v) for v in data) + "]"
    return repr(data)


def _span(node: Tree | Token) -> Span:
    if isinstance(node, Token):
        return Span(node.line, node.column, node.end_line, node.end_column)
    meta = node.meta
    if getattr(meta, "empty", True):
        return Span(1, 1, 1, 2)
    return Span(meta.line, meta.column, meta.end_line, meta.end_column)


class _Lowerer:
    """Walks the lark tree once, checking literals as it goes."""

    def __init__(self, source: Source, out: Collector) -> None:
        self.source = source
        self.out = out

    def blocks(self, tree: Tree) -> list[Block]:
        return [self.block(child) for child in tree.children]

    def block(self, tree: Tree) -> Block:
        kind, name, *statements = tree.children
        block = Block(
            str(kind),
            _span(kind),
            str(name) if name is not None else None,
            _span(name) if name is not None else None,
            span=_span(tree),
        )
        block.statements = [self.statement(s) for s in statements]
        return block

    def statement(self, tree: Tree) -> Statement:
        if tree.data == "block":
            return self.block(tree)
        if tree.data == "setting":
            key, value = tree.children
            return Setting(str(key), _span(key), self.value(value), _span(tree))
        if tree.data == "named_layer":
            name, call = tree.children
            return LayerStatement(str(name), _span(name), self.call(call), _span(tree))
        call = tree.children[0]
        return LayerStatement(None, None, self.call(call), _span(tree))

    def call(self, tree: Tree) -> Call:
        dotted, arguments = tree.children
        args: list[Value] = []
        kwargs: list[Keyword] = []
        for arg in arguments.children if arguments is not None else ():
            if isinstance(arg, Tree) and arg.data == "keyword":
                key, value = arg.children
                kwargs.append(Keyword(str(key), _span(key), self.value(value)))
            else:
                args.append(self.value(arg))
        name = ".".join(str(t) for t in dotted.children)
        return Call(name, _span(dotted), tuple(args), tuple(kwargs), _span(tree))

    def value(self, node: Tree | Token) -> Value:
        span = _span(node)
        if isinstance(node, Token):  # pragma: no cover - the grammar wraps every terminal
            raise TypeError(node)
        kind = node.data
        if kind == "number":
            return Value(self.number(node.children[0], span), span)
        if kind == "string":
            return Value(self.string(node.children[0]), span)
        if kind == "name":
            text = str(node.children[0])
            return Value(_CONSTANTS[text] if text in _CONSTANTS else Name(text), span)
        if kind == "call":
            return Value(self.call(node), span)
        if kind == "tuple":
            return Value(tuple(self.value(c) for c in node.children), span)
        if kind == "list":
            items = [c for c in node.children if c is not None]
            return Value([self.value(c) for c in items], span)
        raise TypeError(kind)  # pragma: no cover

    def number(self, token: Token, span: Span) -> int | float:
        text = str(token)
        digits = sum(ch.isdigit() for ch in text)
        if digits > MAX_DIGITS:
            self.out.add(
                "SPC008",
                f"number literal with {digits} digits; at most {MAX_DIGITS} are allowed",
                span,
                help="write large values in exponent form, e.g. 1e40",
            )
            return 0
        if any(ch in text for ch in ".eE"):
            result = float(text)
            if not math.isfinite(result):
                self.out.add("SPC009", f"`{text}` is not a finite number", span, help="use a finite value")
                return 0.0
            return result
        return int(text)

    def string(self, token: Token) -> str:
        raw = str(token)[1:-1]
        chars: list[str] = []
        i = 0
        while i < len(raw):
            ch = raw[i]
            column = token.column + 1 + i
            if ch == "\\":
                nxt = raw[i + 1] if i + 1 < len(raw) else ""
                if nxt in ('"', "\\"):
                    chars.append(nxt)
                    i += 2
                    continue
                self.out.add(
                    "SPC007",
                    f"invalid escape `\\{nxt}` in a string",
                    Span(token.line, column, token.line, column + 2),
                    help='only \\" and \\\\ are escapes; write the character itself',
                )
                i += 2
                continue
            if ch in _FORBIDDEN or unicodedata.category(ch) == "Cc":
                self.out.add(
                    "SPC006",
                    f"forbidden character U+{ord(ch):04X} "
                    f"({unicodedata.name(ch, 'control character')}) in a string",
                    Span.point(token.line, column),
                    help="remove it; strings may not hold control, line-break or bidi characters",
                )
            chars.append(ch)
            i += 1
        return "".join(chars)


def lower(tree: Tree, source: Source) -> list[Block]:
    """Turn the lark tree into located blocks; literal errors are all reported together."""
    out = Collector(source.name)
    blocks = _Lowerer(source, out).blocks(tree)
    out.raise_if_errors()
    return blocks
