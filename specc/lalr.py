"""Running lark's LALR(1) tables directly: a regex lexer and a shift/reduce loop with an action per rule."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import Any

from lark import Lark
from lark.grammar import Rule

# A token: (terminal, text, line, column, end line, end column), positions 1-based as lark counts
# them. A plain tuple: lark's Token objects cost more to make than the rest of the lexing.
Lexeme = tuple[str, str, int, int, int, int]
# A reduce action gets the context object and the values of the rule's symbols, in order.
Action = Callable[[Any, list[Any]], Any]
# What lark feeds its parser after the last token.
_END: tuple[Lexeme] = (("$END", "", 0, 0, 0, 0),)


class Rejected(Exception):
    """The fast path could not read the text; lark's own parser says why (or reads it after all)."""


class Machine:
    """lark's parse table for the start rule, with specc's actions in place of lark's tree builder."""

    # The same table as lark's parser, so the same language: any text this accepts, lark accepts
    # with the same tokens (see _Lexer), and anything else raises Rejected for lark to explain.

    def __init__(self, lark: Lark, action_for: Callable[[str, tuple[str, ...]], Action | None]) -> None:
        # lark keeps the table on the interactive parser's state: per state, a symbol's action
        # is (Shift, next state) or (Reduce, rule); a nonterminal's "shift" is the goto.
        conf = lark.parse_interactive("").parser_state.parse_conf
        self._start = conf.start_state
        self._end = conf.end_state
        self._rules: list[tuple[int, str, Action | None]] = []
        index: dict[Rule, int] = {}
        # Per state: symbol -> next state (>= 0) or ~rule index (< 0), one dict lookup per step.
        self._table: dict[int, dict[str, int]] = {}
        for state, actions in conf.states.items():
            row = self._table[state] = {}
            for symbol, (_, arg) in actions.items():
                if not isinstance(arg, Rule):
                    if not isinstance(arg, int):  # lark numbers its states unless in debug mode
                        raise ValueError(f"state {arg!r} is not a number")
                    row[symbol] = arg
                    continue
                if arg not in index:
                    index[arg] = len(self._rules)
                    names = tuple(s.name for s in arg.expansion)
                    action = action_for(arg.alias or arg.origin.name, names)
                    if action is None and len(names) != 1:
                        raise ValueError(f"rule {arg} has {len(names)} symbols and no action")
                    self._rules.append((len(names), arg.origin.name, action))
                row[symbol] = ~index[arg]
        self._lexer = _Lexer(lark)

    def lexemes(self, text: str) -> Iterator[Lexeme]:
        """The tokens of `text`, skipping ignored ones; raises Rejected where no terminal matches."""
        return self._lexer.lex(text)

    def run(self, tokens: Iterable[Lexeme], context: Any) -> Any:
        """The start rule's value for these tokens; Rejected at the first one the table refuses."""
        table = self._table
        rules = self._rules
        accepted = self._end
        stack: list[int] = []  # the states below `state`
        values: list[Any] = []
        state = self._start
        for token in chain(tokens, _END):
            kind = token[0]
            while True:
                code = table[state].get(kind)
                if code is None:
                    raise Rejected(kind)
                if code >= 0:
                    stack.append(state)
                    values.append(token)
                    state = code
                    break
                size, origin, action = rules[~code]
                if action is None:
                    # A one-symbol rule whose value is its symbol's (lark's `?rule`, `_rule`):
                    # only the state changes, no list is sliced and no function called.
                    below = stack[-1]
                elif size:
                    children = values[-size:]
                    del values[-size:]
                    below = stack[-size]
                    if size > 1:
                        del stack[1 - size :]
                    values.append(action(context, children))
                else:
                    below = state
                    stack.append(state)
                    values.append(action(context, []))
                state = table[below][origin]
                if state == accepted:  # only the end of the input completes the start rule
                    return values[-1]
        raise Rejected("$END")  # the table shifted the end of the input: not lark's table


class _Lexer:
    """lark's basic lexer, rebuilt as one regular expression over the grammar's terminals."""

    # The alternatives are in lark's order (priority, longest possible match, longest pattern,
    # name) and the first that matches wins, as in lark. lark's parser uses the contextual lexer
    # instead, which only tries the terminals the parser can take next (and the ignored ones).
    # When a text parses with these tokens, each token was one the parser could take, and the
    # contextual lexer, trying a subset in the same order, picks the same one. So a text that
    # this lexer and the table accept gets lark's tokens; on any other text lark has the last word.

    def __init__(self, lark: Lark) -> None:
        terminals = sorted(
            lark.terminals, key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name)
        )
        flags = lark.options.g_regex_flags
        # lark gives a keyword that a regexp terminal also matches (`if`, a NAME) its own type in
        # a callback; this lexer does not, so such a grammar must not come here unnoticed.
        patterns = [t.pattern.to_regexp() for t in terminals if t.pattern.type == "re"]
        regexps = re.compile("|".join(f"(?:{p})" for p in patterns), flags)
        for literal in (t for t in terminals if t.pattern.type == "str"):
            if regexps.fullmatch(literal.pattern.value):
                raise ValueError(f"terminal {literal.name} is also matched by a regexp terminal")
        alternatives = "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals)
        self._match = re.compile(alternatives, flags).match
        self._ignore = frozenset(lark.lexer_conf.ignore)

    def lex(self, text: str) -> Iterator[Lexeme]:
        """The tokens of `text`, lines and columns counted as lark counts them."""
        match = self._match
        ignore = self._ignore
        pos = 0
        line = 1
        line_start = 0  # offset of the current line's first character
        end_of_text = len(text)
        while pos < end_of_text:
            found = match(text, pos)
            if found is None:
                raise Rejected(pos)
            kind: str = found.lastgroup  # type: ignore[assignment]  # each alternative is named
            value = found.group()
            end = found.end()
            first_line = line
            column = pos - line_start + 1
            if "\n" in value:
                line += value.count("\n")
                line_start = pos + value.rindex("\n") + 1
            if kind not in ignore:
                yield (kind, value, first_line, column, line, end - line_start + 1)
            pos = end
