"""Reading spec files and parsing them with the lark grammar into located blocks."""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark import __version__ as LARK_VERSION
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from specc import lalr, user_cache
from specc.diagnostics import Collector, Diagnostic, SpeccError
from specc.limits import DEFAULT_MAX_BYTES
from specc.lower import Block, Builder, action_for
from specc.source import Source, Span, TooLarge, read_bounded

MAX_NESTING = 32

_TERMINALS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "$END": "the end of the file",
}
_BRACKETS = re.compile(r'#[^\n]*|"(?:[^"\\\n]|\\.)*"?|[()\[\]{}]')


def _grammar_path() -> Path:
    """The grammar file: inside the installed package, else in the source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "grammar" / "specc.lark", here.parent / "grammar" / "specc.lark"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("specc.lark is missing from the installation")


def _cache_file(grammar: str) -> str | None:
    """Where to keep the compiled parser between runs: a per-user cache folder, or None.

    Compiling the grammar takes longer than checking a spec; lark pickles the result and checks a
    hash of the grammar, the options and its own version on loading. A pickle runs code when
    loaded, so only a folder that belongs to the user is used (never a shared temp folder), and
    nothing is cached where nothing can be written (a read-only home still works, uncached).
    """
    if os.environ.get("SPECC_NO_PARSER_CACHE"):
        return None
    folder = user_cache.folder()
    if folder is None:
        return None
    key = f"{grammar}{sys.version_info[:2]}{LARK_VERSION}".encode()
    return str(folder / f"parser-{hashlib.sha256(key).hexdigest()[:20]}.pickle")


def parser() -> Lark:
    """The LALR parser, built once per process (loaded from the user's cache when there)."""
    _machine()  # built with it: forked workers inherit both from the process that called this
    return _lark()


@lru_cache(maxsize=1)
def _lark() -> Lark:
    """lark's parser for the grammar: it words syntax errors; its table drives `_machine`."""
    grammar = _grammar_path().read_text(encoding="utf-8")
    cache = _cache_file(grammar)
    return Lark(
        grammar,
        cache=cache or False,
        # Keep the unanalysed grammar in the cache too: hypothesis' from_lark reads `Lark.grammar`.
        cache_grammar=bool(cache),
        parser="lalr",
        # Every token stays in the tree (brackets too): were lark to read a text that the fast
        # path refused, parse() replays them. Spans come from the tokens, not from lark's
        # propagate_positions, which would triple the parse time of a large spec.
        keep_all_tokens=True,
        maybe_placeholders=True,
    )


def decode(data: bytes, name: str, path: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> Source:
    """Decode raw bytes into a Source, rejecting oversized, binary and non-UTF-8 input."""
    out = Collector(name)
    if len(data) > max_bytes:
        out.add(
            "SPC012",
            f"the file is {len(data):,} bytes; the limit is {max_bytes:,}",
            help="split the spec, or raise the limit with --max-bytes",
        )
        out.raise_if_errors()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        prefix = data[start : err.start].decode("utf-8", errors="replace")
        line = prefix.count("\n") + 1
        column = len(prefix) - (prefix.rfind("\n") + 1) + 1
        out.add(
            "SPC001",
            f"invalid UTF-8 byte 0x{data[err.start]:02x}",
            Span.point(line, column),
            help="save the file as UTF-8",
        )
        out.raise_if_errors()
    if "\r" in text:
        # A lone CR ends a line too (classic Mac files) but lark counts only "\n": normalise once
        # here so that the parser, the diagnostics and the snippets agree on line numbers.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    source = Source(name, text, path)
    nul = text.find("\x00")
    if nul >= 0:
        out.add(
            "SPC002",
            "the file contains a NUL byte",
            Span.point(*source.position(nul)),
            help="is this a binary file? specs are UTF-8 text",
        )
        out.raise_if_errors()
    return source


def read(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Source:
    """Read and decode a spec file."""
    try:
        data = read_bounded(path, max_bytes)
    except TooLarge as err:
        out = Collector(str(path))
        out.add(
            "SPC012",
            f"the file is {err.size:,} bytes; the limit is {max_bytes:,}",
            help="split the spec, or raise the limit with --max-bytes",
        )
        out.raise_if_errors()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise SpeccError(
            [
                Diagnostic(
                    "SPC015",
                    f"cannot read {path}: {reason}",
                    file=str(path),
                    help="check that the path exists and is a readable file",
                )
            ]
        ) from None
    return decode(data, str(path), path, max_bytes)


def _check_nesting(source: Source, out: Collector) -> None:
    """Reject absurdly deep bracket nesting before the parser and later stages recurse into it."""
    text = source.text
    if text.count("(") + text.count("[") + text.count("{") <= MAX_NESTING:
        return  # too few brackets to nest that deep, even counting those in strings and comments
    depth = 0
    for match in _BRACKETS.finditer(text):
        char = match.group()
        if char in "([{":
            depth += 1
            if depth > MAX_NESTING:
                span = Span.point(*source.position(match.start()))
                out.add(
                    "SPC010",
                    f"brackets are nested more than {MAX_NESTING} levels deep",
                    span,
                    help="flatten the value; no setting needs this much nesting",
                )
                return
        elif char in ")]}":
            depth = max(depth - 1, 0)


def _unclosed(source: Source) -> tuple[str, int] | None:
    """The innermost bracket still open at the end of the file, and its offset."""
    stack: list[tuple[str, int]] = []
    for match in _BRACKETS.finditer(source.text):
        char = match.group()
        if char in "([{":
            stack.append((char, match.start()))
        elif char in ")]}" and stack:
            stack.pop()
    return stack[-1] if stack else None


def _describe(token_type: str) -> str:
    """A readable name for a grammar terminal."""
    if token_type in _TERMINALS:
        return _TERMINALS[token_type]
    try:
        pattern = _lark().get_terminal(token_type).pattern
    except KeyError:
        return token_type
    return f"`{pattern.value}`" if pattern.type == "str" else token_type


def _token_span(token: Token, source: Source) -> Span:
    """The span of a token, or the last character of the file for the end marker."""
    if token.type == "$END" or token.line is None:
        lines = source.lines
        while len(lines) > 1 and not lines[-1].strip():
            lines = lines[:-1]
        return Span.point(len(lines), max(len(lines[-1]), 1))
    return Span(token.line, token.column, token.end_line or token.line, token.end_column or token.column + 1)


def _syntax_error(err: UnexpectedInput, source: Source) -> Diagnostic:
    """Turn a lark error into one diagnostic with a position and a hint."""
    name = source.name
    if isinstance(err, UnexpectedCharacters):
        span = Span.point(err.line, err.column)
        char = source.text[err.pos_in_stream] if err.pos_in_stream < len(source.text) else ""
        if char == '"':
            return Diagnostic(
                "SPC005",
                "this string is not closed before the end of the line",
                span,
                name,
                help='close it with `"`; strings cannot span lines',
            )
        shown = repr(char) if not char.isprintable() or char.isspace() else f"`{char}`"
        hint = "comments start with `#`; names, numbers and strings in double quotes are allowed"
        if char == "'":
            hint = 'strings use double quotes: "like this"'
        elif char == "+":
            hint = "numbers are written without a leading `+`"
        return Diagnostic("SPC004", f"unexpected character {shown}", span, name, help=hint)
    if isinstance(err, (UnexpectedToken, UnexpectedEOF)):
        token = err.token if isinstance(err, UnexpectedToken) else Token("$END", "")
        expected = sorted({_describe(t) for t in err.expected} - {"_SEP"})
        found = "the end of the file" if token.type == "$END" else f"`{token.value}`"
        span = _token_span(token, source)
        message = f"unexpected {found}"
        hint = f"expected {', '.join(expected[:6])}" if expected else None
        opened = _unclosed(source) if token.type == "$END" else None
        if opened is not None:
            # Name the innermost open bracket: the parser's expected set mixes every level.
            char, offset = opened
            what = {"(": "a call or tuple", "[": "a list", "{": "a block"}[char]
            closer = {"(": ")", "[": "]", "{": "}"}[char]
            line, column = source.position(offset)
            message = f"unexpected end of file: {what} is not closed"
            hint = f"add the missing `{closer}` for the `{char}` on line {line}, column {column}"
        elif token.type == "NAME" and "`,`" in expected:
            hint = "separate arguments with `,`"
        return Diagnostic("SPC003", message, span, name, help=hint)
    return Diagnostic("SPC003", str(err).splitlines()[0], Span.point(1, 1), name)


@lru_cache(maxsize=1)
def _machine() -> lalr.Machine:
    """The parser's table driven directly, building located data as it reduces (built once)."""
    return lalr.Machine(_lark(), action_for)


def _leaves(tree: Tree) -> Iterator[lalr.Lexeme]:
    """The tokens of a lark tree in text order (it keeps them all; placeholders are None)."""
    for child in tree.children:
        if isinstance(child, Tree):
            yield from _leaves(child)
        elif child is not None:
            yield (child.type, str(child), child.line, child.column, child.end_line, child.end_column)


def parse(source: Source) -> list[Block]:
    """Parse a source into located blocks, or raise SpeccError with its syntax or literal errors."""
    # lark's tables run directly over a regex lexer: lark's own parse, building a tree that was
    # then walked again, cost twice as much. A text that path cannot read goes to lark's parser,
    # which words the syntax error as before, or, were its contextual lexer to read a text the
    # fast one cannot, hands over its tokens. Literal errors (numbers, strings) are collected
    # while reducing and reported together once the whole text has parsed.
    out = Collector(source.name)
    _check_nesting(source, out)
    out.raise_if_errors()
    machine = _machine()
    try:
        blocks = machine.run(machine.lexemes(source.text), Builder(out))
    except lalr.Rejected:
        try:
            tree = _lark().parse(source.text)
        except UnexpectedInput as err:
            raise SpeccError([_syntax_error(err, source)]) from None
        out = Collector(source.name)  # the literal errors of the first try would count twice
        blocks = machine.run(_leaves(tree), Builder(out))
    out.raise_if_errors()
    return blocks
