"""Syntax tree -> plain located data: blocks, settings, layer statements, calls and values."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from typing import Any

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


Statement = Setting | LayerStatement | Block


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


def _token_span(token: Token) -> Span:
    return Span(token.line, token.column, token.end_line, token.end_column)


def _span(node: Tree | Token) -> Span:
    """A node's span from its first to its last token.

    The parser records no positions itself (propagating them made parsing three times slower);
    it keeps every token, brackets included, and placeholders (None) never come first or last.
    """
    if isinstance(node, Token):
        return Span(node.line, node.column, node.end_line, node.end_column)
    if not node.children:
        return Span(1, 1, 1, 2)
    first: Tree | Token = node
    while isinstance(first, Tree):
        first = first.children[0]
    last: Tree | Token = node
    while isinstance(last, Tree):
        last = last.children[-1]
    return Span(first.line, first.column, last.end_line, last.end_column)


def _trees(children: list[Any]) -> list[Any]:
    """The children that carry meaning: subtrees and named tokens, not punctuation or placeholders."""
    return [c for c in children if isinstance(c, Tree) or (c is not None and c.type in _MEANINGFUL)]


# Terminals that carry meaning; every other token in the tree is punctuation.
_MEANINGFUL = frozenset({"NAME", "NUMBER", "STRING"})


class _Lowerer:
    """Walks the lark tree once, checking literals as it goes."""

    def __init__(self, source: Source, out: Collector) -> None:
        self.source = source
        self.out = out

    def blocks(self, tree: Tree) -> list[Block]:
        return [self.block(self._unwrap(child)) for child in _trees(tree.children)]

    @staticmethod
    def _unwrap(tree: Tree) -> Tree:
        """A statement followed by `,` or `;` comes wrapped in a `statement` node with the separator."""
        while tree.data == "statement":
            tree = next(c for c in tree.children if isinstance(c, Tree))
        return tree

    def block(self, tree: Tree) -> Block:
        kind, name = tree.children[0], tree.children[1]
        block = Block(
            str(kind),
            _token_span(kind),
            str(name) if name is not None else None,
            _token_span(name) if name is not None else None,
            span=_span(tree),
        )
        block.statements = [self.statement(self._unwrap(s)) for s in tree.children[2:] if isinstance(s, Tree)]
        return block

    def statement(self, tree: Tree) -> Statement:
        if tree.data == "block":
            return self.block(tree)
        if tree.data == "setting":
            key, value = _trees(tree.children)
            return Setting(str(key), _token_span(key), self.value(value), _span(tree))
        if tree.data == "named_layer":
            name, call = _trees(tree.children)
            return LayerStatement(str(name), _token_span(name), self.call(call), _span(tree))
        (call,) = _trees(tree.children)
        return LayerStatement(None, None, self.call(call), _span(tree))

    def call(self, tree: Tree) -> Call:
        dotted, arguments = tree.children[0], tree.children[2]
        args: list[Value] = []
        kwargs: list[Keyword] = []
        for arg in _trees(arguments.children) if arguments is not None else ():
            if arg.data == "keyword":
                key, value = _trees(arg.children)
                kwargs.append(Keyword(str(key), _token_span(key), self.value(value)))
            else:
                args.append(self.value(arg))
        name = ".".join(str(t) for t in _trees(dotted.children))
        return Call(name, _span(dotted), tuple(args), tuple(kwargs), _span(tree))

    def value(self, node: Tree) -> Value:
        kind = node.data
        if kind == "value":  # a value in parentheses: `(x)` is x, spanning x alone
            (inner,) = _trees(node.children)
            return self.value(inner)
        if kind in ("number", "string", "name"):
            token = node.children[0]
            span = _token_span(token)
            if kind == "number":
                return Value(self.number(token, span), span)
            if kind == "string":
                return Value(self.string(token), span)
            text = str(token)
            return Value(_CONSTANTS[text] if text in _CONSTANTS else Name(text), span)
        span = _span(node)
        if kind == "call":
            return Value(self.call(node), span)
        if kind == "tuple":
            return Value(tuple(self.value(c) for c in _trees(node.children)), span)
        if kind == "list":
            return Value([self.value(c) for c in _trees(node.children)], span)
        raise TypeError(kind)  # pragma: no cover - the grammar has no other value

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
