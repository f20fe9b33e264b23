"""Located data built while parsing: blocks, settings, layer statements, calls and values."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from specc.diagnostics import Collector
from specc.lalr import Lexeme
from specc.source import Span

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


class _Paren:
    """A value in parentheses: `(x)` is x, spanning x alone, but the statement ends at `)`."""

    __slots__ = ("value", "close")

    def __init__(self, value: Value, close: Lexeme) -> None:
        self.value = value
        self.close = close


def _unwrap(value: Value | _Paren) -> Value:
    """The value itself, out of its parentheses."""
    return value.value if type(value) is _Paren else value


def _items(children: list[Any]) -> list[Value]:
    """The values between a tuple's or list's brackets."""
    # `value ("," value)*` arrives as the first value and one flat list [",", value, ",", ...].
    items: list[Value] = []
    for child in children[1:-1]:
        kind = type(child)
        if kind is Value:
            items.append(child)
        elif kind is _Paren:
            items.append(child.value)
        elif kind is list:
            items.extend(_unwrap(v) for v in child[1::2])
    return items


class Builder:
    """The parser's reduce actions: the values of a rule's symbols in, located data out."""

    # Tokens arrive as lexemes; literal errors go to `out`, to be reported all together.

    __slots__ = ("out",)

    def __init__(self, out: Collector) -> None:
        self.out = out

    def start(self, children: list[Any]) -> list[Block]:
        return children[0] if children else []

    def block(self, children: list[Any]) -> Block:
        # NAME [NAME] "{" statement* "}": the name is absent when the second token is the `{`.
        _, kind, line, column, end_line, end_column = children[0]
        second = children[1]
        name = second if second[0] == "NAME" else None
        close = children[-1]
        statements = children[-2]
        return Block(
            kind,
            Span(line, column, end_line, end_column),
            name[1] if name is not None else None,
            Span(name[2], name[3], name[4], name[5]) if name is not None else None,
            statements if type(statements) is list else [],
            Span(line, column, close[4], close[5]),
        )

    def statement(self, children: list[Any]) -> Statement:
        return children[0]  # the statement before its `,` or `;`

    def setting(self, children: list[Any]) -> Setting:
        _, key, line, column, end_line, end_column = children[0]
        value = children[2]
        if type(value) is _Paren:
            last = value.close
            value = value.value
            span = Span(line, column, last[4], last[5])
        else:
            span = Span(line, column, value.span.end_line, value.span.end_column)
        return Setting(key, Span(line, column, end_line, end_column), value, span)

    def named_layer(self, children: list[Any]) -> LayerStatement:
        _, name, line, column, end_line, end_column = children[0]
        call = children[2]
        span = call.span
        return LayerStatement(
            name,
            Span(line, column, end_line, end_column),
            call.data,
            Span(line, column, span.end_line, span.end_column),
        )

    def layer(self, children: list[Any]) -> LayerStatement:
        call = children[0]
        return LayerStatement(None, None, call.data, call.span)

    def call(self, children: list[Any]) -> Value:
        """A call as a value (its span is the call's): a layer statement takes the call out."""
        name, name_span = children[0]
        args: list[Value] = []
        kwargs: list[Keyword] = []
        if len(children) == 4:
            for arg in children[2]:
                kind = type(arg)
                if kind is Value:
                    args.append(arg)
                elif kind is Keyword:
                    kwargs.append(arg)
                else:
                    args.append(arg.value)
        close = children[-1]
        span = Span(name_span.line, name_span.column, close[4], close[5])
        return Value(Call(name, name_span, tuple(args), tuple(kwargs), span), span)

    def dotted(self, children: list[Any]) -> tuple[str, Span]:
        _, name, line, column, end_line, end_column = children[0]
        if len(children) == 1:
            return name, Span(line, column, end_line, end_column)
        rest = children[1]  # [".", NAME, ".", NAME, ...]
        last = rest[-1]
        return name + "".join([token[1] for token in rest]), Span(line, column, last[4], last[5])

    def arguments(self, children: list[Any]) -> list[Any]:
        # argument ("," argument)* ","?: the repeats arrive as one flat list [",", arg, ...].
        if len(children) > 1 and type(children[1]) is list:
            return [children[0], *children[1][1::2]]
        return [children[0]]

    def keyword(self, children: list[Any]) -> Keyword:
        _, key, line, column, end_line, end_column = children[0]
        return Keyword(key, Span(line, column, end_line, end_column), _unwrap(children[2]))

    def paren(self, children: list[Any]) -> _Paren:
        return _Paren(_unwrap(children[1]), children[2])

    def tuple_value(self, children: list[Any]) -> Value:
        first = children[0]
        last = children[-1]
        return Value(tuple(_items(children)), Span(first[2], first[3], last[4], last[5]))

    def list_value(self, children: list[Any]) -> Value:
        first = children[0]
        last = children[-1]
        return Value(_items(children), Span(first[2], first[3], last[4], last[5]))

    def name(self, children: list[Any]) -> Value:
        _, text, line, column, end_line, end_column = children[0]
        span = Span(line, column, end_line, end_column)
        return Value(_CONSTANTS[text] if text in _CONSTANTS else Name(text), span)

    def number(self, children: list[Any]) -> Value:
        _, text, line, column, end_line, end_column = children[0]
        span = Span(line, column, end_line, end_column)
        return Value(self._number(text, span), span)

    def string(self, children: list[Any]) -> Value:
        _, text, line, column, end_line, end_column = children[0]
        return Value(self._string(text, line, column), Span(line, column, end_line, end_column))

    def repeat(self, children: list[Any]) -> list[Any]:
        """The first round of lark's helper rule for `x*`: a fresh list of the symbols' values."""
        return children

    def repeat_more(self, children: list[Any]) -> list[Any]:
        """Another round: the list so far, extended (lark's helper rules recurse on the left)."""
        so_far = children[0]
        so_far += children[1:]
        return so_far

    def _number(self, text: str, span: Span) -> int | float:
        if len(text) > MAX_DIGITS:  # shorter literals cannot have too many digits
            digits = sum(ch.isdigit() for ch in text)
            if digits > MAX_DIGITS:
                self.out.add(
                    "SPC008",
                    f"number literal with {digits} digits; at most {MAX_DIGITS} are allowed",
                    span,
                    help="write large values in exponent form, e.g. 1e40",
                )
                return 0
        if "." in text or "e" in text or "E" in text:
            result = float(text)
            if not math.isfinite(result):
                self.out.add("SPC009", f"`{text}` is not a finite number", span, help="use a finite value")
                return 0.0
            return result
        return int(text)

    def _string(self, text: str, line: int, column: int) -> str:
        raw = text[1:-1]
        if "\\" not in raw and raw.isprintable():
            # Nothing to unescape or reject: every forbidden character is unprintable.
            return raw
        chars: list[str] = []
        i = 0
        while i < len(raw):
            ch = raw[i]
            at = column + 1 + i
            if ch == "\\":
                nxt = raw[i + 1] if i + 1 < len(raw) else ""
                if nxt in ('"', "\\"):
                    chars.append(nxt)
                    i += 2
                    continue
                self.out.add(
                    "SPC007",
                    f"invalid escape `\\{nxt}` in a string",
                    Span(line, at, line, at + 2),
                    help='only \\" and \\\\ are escapes; write the character itself',
                )
                i += 2
                continue
            if ch in _FORBIDDEN or unicodedata.category(ch) == "Cc":
                self.out.add(
                    "SPC006",
                    f"forbidden character U+{ord(ch):04X} "
                    f"({unicodedata.name(ch, 'control character')}) in a string",
                    Span.point(line, at),
                    help="remove it; strings may not hold control, line-break or bidi characters",
                )
            chars.append(ch)
            i += 1
        return "".join(chars)


# lark's rules whose one symbol's value is the rule's value: `?rule`s (a statement without a
# separator, a positional argument, a call as a value) and `_sep`, which the statement drops.
_PASS_THROUGH = frozenset({"statement", "argument", "value", "_sep"})


_ACTIONS: dict[str, Callable[[Builder, list[Any]], Any]] = {
    "start": Builder.start,
    "block": Builder.block,
    "statement": Builder.statement,
    "setting": Builder.setting,
    "named_layer": Builder.named_layer,
    "layer": Builder.layer,
    "call": Builder.call,
    "dotted": Builder.dotted,
    "arguments": Builder.arguments,
    "keyword": Builder.keyword,
    "value": Builder.paren,
    "tuple": Builder.tuple_value,
    "list": Builder.list_value,
    "name": Builder.name,
    "number": Builder.number,
    "string": Builder.string,
}


def action_for(rule: str, symbols: tuple[str, ...]) -> Callable[[Builder, list[Any]], Any] | None:
    """The Builder action for a grammar rule (by alias or name), or None to pass its one value on."""
    if rule.startswith("__"):  # lark's helper rule for a repetition, left-recursive
        return Builder.repeat_more if symbols[0] == rule else Builder.repeat
    if len(symbols) == 1 and rule in _PASS_THROUGH:
        return None
    return _ACTIONS[rule]
