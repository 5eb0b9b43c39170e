"""The formula language of indicators: parsing, checking, ordering and scalar evaluation.

An indicator is defined by a formula over data-element codes and other indicators, e.g.
`revenue_telecom / population * 1000` or `growth(subscribers_broadband)`. Analysts type
these formulas, so the parser is hand-written to report every mistake with the exact
character position, and nothing is ever passed to `eval`.

Grammar (usual precedence, binary operators associate to the left):

    formula := sum
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary)*
    unary   := "-" unary | atom
    atom    := NUMBER | NAME | NAME "(" sum ("," sum)* ")" | "(" sum ")"
    NUMBER  := digits ("." digits)? (("e" | "E") ("+" | "-")? digits)?
    digits  := [0-9]+ ("_" [0-9]+)*
    NAME    := [A-Za-z_][A-Za-z0-9_]*

A name followed by "(" is a call to one of the functions in `FUNCTIONS`; any other name is
a data-element or indicator code. Whitespace, including non-breaking spaces pasted from
office documents, may separate tokens.

AST nodes compare structurally: positions are carried for messages but excluded from
equality, so `parse(to_source(node)) == node`.
"""

from __future__ import annotations

import difflib
import graphlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "BinOp",
    "Call",
    "FormulaError",
    "Function",
    "Name",
    "Neg",
    "Node",
    "Num",
    "Resolve",
    "dependency_order",
    "evaluate_scalar",
    "name_positions",
    "names",
    "parse",
    "to_source",
    "walk",
]


# -- errors -----------------------------------------------------------------------------


class FormulaError(ValueError):
    """A formula that cannot be used, with where and (when known) in which indicator.

    `message` says what is wrong ("unexpected ')'") and `hint` how to put it right
    ("expected a number, a name or '('"), kept apart so that the position reads next to
    the fault. `position` is a 0-based character offset into `text`; both are None when
    the problem is not at one place (a cycle between indicators). `indicator` names the
    indicator whose formula is at fault, so a form can attach the message to its field.
    """

    def __init__(
        self,
        message: str,
        position: int | None = None,
        text: str | None = None,
        *,
        hint: str = "",
        indicator: str | None = None,
    ) -> None:
        self.message = message
        self.position = position
        self.text = text
        self.hint = hint
        self.indicator = indicator
        super().__init__(message)

    def __str__(self) -> str:
        head = self.message
        if self.position is not None:
            head += f" at position {self.position}"
        if self.hint:
            head += f"; {self.hint}"
        if self.position is None or self.text is None:
            return head
        return f"{head}\n{_caret(self.text, self.position)}"


def _caret(text: str, position: int) -> str:
    """The line of `text` holding `position`, and a caret under that character."""
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    line = text[start : end if end != -1 else len(text)]
    # Copy tabs so the caret lines up however the terminal expands them.
    pad = "".join("\t" if c == "\t" else " " for c in line[: position - start])
    return f"    {line}\n    {pad}^"


# -- function registry ------------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    """A built-in function: how many arguments it takes and what it needs to be computed.

    `uses_areas` marks the functions that read other areas of the hierarchy; only the
    vectorised engine, which holds every area at once, can compute them.
    """

    arity: int
    summary: str
    uses_areas: bool = False


FUNCTIONS: dict[str, Function] = {
    "prev_year": Function(1, "value of x for the same period a year before"),
    "growth": Function(1, "x / prev_year(x) - 1: growth against the same period a year before"),
    "sum_children": Function(1, "sum of x over the children areas of the area", uses_areas=True),
    "share": Function(1, "x of the area divided by x of its parent area", uses_areas=True),
    "abs": Function(1, "absolute value of x"),
    "min": Function(2, "smaller of a and b"),
    "max": Function(2, "larger of a and b"),
}


# -- AST --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    """A literal number, never negative (`-5` is `Neg(Num(5))`)."""

    value: float
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Name:
    """A data-element or indicator code."""

    name: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Neg:
    """Unary minus; `pos` is the position of the "-"."""

    operand: Node
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class BinOp:
    """A binary operation; `pos` is the position of the operator, where a message points."""

    op: str
    left: Node
    right: Node
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    """A call to a function of `FUNCTIONS`; `pos` is the position of the function name."""

    func: str
    args: tuple[Node, ...]
    pos: int = field(default=0, compare=False)


Node = Num | Name | Neg | BinOp | Call


# -- tokens -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "num", "name", one of "+-*/(),", or "end"
    text: str
    pos: int


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[0-9]+(?:_[0-9]+)*(?:\.[0-9]+(?:_[0-9]+)*)?(?:[eE][+-]?[0-9]+(?:_[0-9]+)*)?")
# What a reader would take for one number, to quote a malformed one whole ("1.2.3", "12ab").
_NUMBER_LIKE = re.compile(r"[0-9A-Za-z_.]+")
_PUNCTUATION = frozenset("+-*/(),")


def _tokens(text: str) -> Iterator[_Token]:
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
        elif char in _PUNCTUATION:
            yield _Token(char, char, pos)
            pos += 1
        elif "0" <= char <= "9" or char == ".":
            token = _number_token(text, pos)
            yield token
            pos += len(token.text)
        elif match := _NAME.match(text, pos):
            yield _Token("name", match.group(), pos)
            pos = match.end()
        else:
            raise FormulaError(f"unexpected character {_describe_char(char)}", pos, text)
    # An unexpected end points just past the last character typed, not at trailing spaces.
    yield _Token("end", "", len(text.rstrip()))


def _number_token(text: str, pos: int) -> _Token:
    match = _NUMBER.match(text, pos)
    if match is None or _glued(text, match.end()):
        word = _NUMBER_LIKE.match(text, pos).group()
        raise FormulaError(
            f"malformed number {word!r}", pos, text, hint="write numbers like 12, 1.5, 1e3 or 1_000"
        )
    if not math.isfinite(float(match.group().replace("_", ""))):
        raise FormulaError(f"number {match.group()!r} is too large", pos, text)
    return _Token("num", match.group(), pos)


def _glued(text: str, end: int) -> bool:
    """Whether a number runs on into characters that cannot follow it ("1.", "1__0", "12ab")."""
    return end < len(text) and (text[end] in "._" or text[end].isascii() and text[end].isalnum())


def _describe_char(char: str) -> str:
    """Name non-ASCII characters: a pasted '−' or '×' looks just like '-' or '*'."""
    if char.isascii():
        return repr(char)
    return f"{char!r} ({unicodedata.name(char, f'U+{ord(char):04X}')})"


# -- parser -----------------------------------------------------------------------------


MAX_DEPTH = 150
"""Deepest formula accepted, so that walking a tree can never exhaust Python's stack."""


def parse(text: str) -> Node:
    """Parse a formula, raising `FormulaError` at the first mistake.

    Function names and arities are checked here, so a formula that parses can be
    evaluated; whether its names exist is checked by `dependency_order`, which knows them.
    Trees deeper than `MAX_DEPTH` (a sum of more than 150 terms, or as many nested
    parentheses) are refused rather than risk a crash in whatever processes them next.
    """
    if not text.strip():
        raise FormulaError("empty formula", 0, text)
    node = _Parser(text).formula()
    if _depth(node) > MAX_DEPTH:
        raise FormulaError(f"formula is nested more than {MAX_DEPTH} levels deep", 0, text)
    return node


class _Parser:
    """Recursive descent over the grammar in the module docstring, one method per rule."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = list(_tokens(text))
        self.index = 0
        self.nesting = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.current
        self.index += 1
        return token

    def formula(self) -> Node:
        node = self.sum()
        if self.current.kind != "end":
            raise self.unexpected("an operator")
        return node

    def sum(self) -> Node:
        node = self.product()
        while self.current.kind in ("+", "-"):
            op = self.advance()
            node = BinOp(op.kind, node, self.product(), op.pos)
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.current.kind in ("*", "/"):
            op = self.advance()
            node = BinOp(op.kind, node, self.unary(), op.pos)
        return node

    def unary(self) -> Node:
        # Every recursion of the parser passes here: bound it before Python's stack does.
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise FormulaError(
                f"formula is nested more than {MAX_DEPTH} levels deep", self.current.pos, self.text
            )
        if self.current.kind == "-":
            minus = self.advance()
            node: Node = Neg(self.unary(), minus.pos)
        else:
            node = self.atom()
        self.nesting -= 1
        return node

    def atom(self) -> Node:
        token = self.current
        if token.kind == "num":
            self.advance()
            return Num(float(token.text.replace("_", "")), token.pos)
        if token.kind == "name":
            self.advance()
            if self.current.kind == "(":
                return self.call(token)
            return Name(token.text, token.pos)
        if token.kind == "(":
            self.advance()
            node = self.sum()
            self.close(token, "')'")
            return node
        raise self.unexpected("a number, a name or '('")

    def call(self, name: _Token) -> Call:
        function = FUNCTIONS.get(name.text)
        if function is None:
            raise FormulaError(
                f"unknown function {name.text!r}",
                name.pos,
                self.text,
                hint=_suggest(name.text, FUNCTIONS) or "functions are " + ", ".join(FUNCTIONS),
            )
        opening = self.advance()
        args = [self.sum()]
        while self.current.kind == ",":
            self.advance()
            args.append(self.sum())
        self.close(opening, "',' or ')'")
        if len(args) != function.arity:
            raise FormulaError(
                f"{name.text}() takes {_arguments(function.arity)}, got {len(args)}",
                name.pos,
                self.text,
            )
        return Call(name.text, tuple(args), name.pos)

    def close(self, opening: _Token, expected: str) -> None:
        """Consume the ")" matching `opening`; a missing one is blamed on the "(" itself."""
        if self.current.kind == ")":
            self.advance()
        elif self.current.kind == "end":
            raise FormulaError("'(' is never closed", opening.pos, self.text)
        else:
            raise self.unexpected(expected)

    def unexpected(self, expected: str) -> FormulaError:
        token = self.current
        if token.kind == "end":
            return FormulaError(
                "unexpected end of formula", token.pos, self.text, hint=f"expected {expected}"
            )
        if token.kind == ")" and not self.has_open_group():
            return FormulaError("unexpected ')' with no matching '('", token.pos, self.text)
        found = {"num": "number", "name": "name"}.get(token.kind)
        shown = f"{found} {token.text!r}" if found else repr(token.text)
        return FormulaError(
            f"unexpected {shown}", token.pos, self.text, hint=f"expected {expected}"
        )

    def has_open_group(self) -> bool:
        seen = self.tokens[: self.index]
        return sum(t.kind == "(" for t in seen) > sum(t.kind == ")" for t in seen)


def _arguments(count: int) -> str:
    return "1 argument" if count == 1 else f"{count} arguments"


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"did you mean {close[0]!r}?" if close else ""


# -- printing and walking ---------------------------------------------------------------

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
_NEG_PRECEDENCE = 3
_ATOM_PRECEDENCE = 4


def to_source(node: Node) -> str:
    """Print a formula with canonical spacing and only the parentheses it needs."""
    match node:
        case Num(value=value):
            return _number_source(value)
        case Name(name=name):
            return name
        case Neg(operand=operand):
            return "-" + _wrap(operand, _ATOM_PRECEDENCE)
        case BinOp(op=op, left=left, right=right):
            # Left-associative: an equal-precedence right operand needs parentheses.
            level = _PRECEDENCE[op]
            return f"{_wrap(left, level)} {op} {_wrap(right, level + 1)}"
        case Call(func=func, args=args):
            return f"{func}({', '.join(to_source(arg) for arg in args)})"
    raise TypeError(f"not a formula node: {node!r}")


def _precedence(node: Node) -> int:
    if isinstance(node, BinOp):
        return _PRECEDENCE[node.op]
    return _NEG_PRECEDENCE if isinstance(node, Neg) else _ATOM_PRECEDENCE


def _wrap(node: Node, minimum: int) -> str:
    source = to_source(node)
    return source if _precedence(node) >= minimum else f"({source})"


def _number_source(value: float) -> str:
    # Integers print without ".0" while exact; repr() round-trips every other float.
    # float() first: a hand-built Num(12) holds an int, which has no is_integer() on 3.11.
    number = float(value)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def _children(node: Node) -> tuple[Node, ...]:
    match node:
        case Neg(operand=operand):
            return (operand,)
        case BinOp(left=left, right=right):
            return (left, right)
        case Call(args=args):
            return args
    return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node, parents before children and left before right (source order for names)."""
    yield node
    for child in _children(node):
        yield from walk(child)


def _depth(node: Node) -> int:
    """Depth of a tree, computed without recursion since it guards against deep trees."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in _children(current))
    return deepest


def name_positions(node: Node) -> list[tuple[str, int]]:
    """Each referenced code with its position, in source order, repeats included."""
    return [(n.name, n.pos) for n in walk(node) if isinstance(n, Name)]


def names(node: Node) -> set[str]:
    """The data-element and indicator codes that a formula reads."""
    return {name for name, _ in name_positions(node)}


# -- dependencies -----------------------------------------------------------------------


def dependency_order(formulas: dict[str, str], known: set[str]) -> list[str]:
    """Indicator codes ordered so that each comes after every indicator its formula uses.

    `known` holds the data-element codes. A code may not be both an element and an
    indicator, since a formula naming it would be ambiguous. An indicator that uses itself,
    even through `prev_year`, is a cycle: the engine computes one period at a time.
    Indicators that do not depend on each other come in alphabetical order, so the result
    is stable from one run to the next.
    """
    graph = {code: _uses(code, text, formulas, known) for code, text in formulas.items()}
    sorter = graphlib.TopologicalSorter(graph)
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        raise _cycle_error(error.args[1]) from None
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return order


def _uses(code: str, text: str, formulas: dict[str, str], known: set[str]) -> set[str]:
    """The indicators that one indicator's formula uses, after checking every name exists."""
    if code in known:
        raise FormulaError(
            f"indicator {code!r}: {code!r} is also a data-element code", indicator=code
        )
    try:
        node = parse(text)
    except FormulaError as error:
        raise FormulaError(
            f"indicator {code!r}: {error.message}",
            error.position,
            text,
            hint=error.hint,
            indicator=code,
        ) from None
    uses = set()
    for name, pos in name_positions(node):
        if name in formulas:
            uses.add(name)
        elif name not in known:
            raise FormulaError(
                f"indicator {code!r}: unknown name {name!r}",
                pos,
                text,
                hint=_suggest(name, known | formulas.keys()),
                indicator=code,
            )
    return uses


def _cycle_error(cycle: list[str]) -> FormulaError:
    """graphlib lists a cycle in "is used by" order; report it as "uses", from its smallest code."""
    uses = list(reversed(cycle))[:-1]
    start = uses.index(min(uses))
    uses = uses[start:] + uses[:start]
    return FormulaError("cycle: " + " -> ".join([*uses, uses[0]]), indicator=uses[0])


# -- scalar evaluation ------------------------------------------------------------------

# resolve(name, shift_years): a code's value at the current area, shift_years years back.
Resolve = Callable[[str, int], float | None]


def evaluate_scalar(node: Node, resolve: Resolve) -> float | None:
    """One value of a formula, for tests and for explaining a single figure.

    Missing data propagates: a missing operand, a division by zero, or a result that is
    not finite makes the whole value None (missing), never an exception, just as a blank
    cell in the review. Functions that read other areas raise `FormulaError`: they need
    the vectorised engine.
    """
    return _evaluate(node, resolve, 0)


def _evaluate(node: Node, resolve: Resolve, shift: int) -> float | None:
    match node:
        case Num(value=value):
            return value
        case Name(name=name):
            return _finite(resolve(name, shift))
        case Neg(operand=operand):
            value = _evaluate(operand, resolve, shift)
            return None if value is None else -value
        case BinOp(op=op, left=left, right=right):
            left_value = _evaluate(left, resolve, shift)
            return _arithmetic(op, left_value, _evaluate(right, resolve, shift))
        case Call():
            return _call(node, resolve, shift)
    raise TypeError(f"not a formula node: {node!r}")


def _arithmetic(op: str, left: float | None, right: float | None) -> float | None:
    if left is None or right is None:
        return None
    if op == "+":
        return _finite(left + right)
    if op == "-":
        return _finite(left - right)
    if op == "*":
        return _finite(left * right)
    return None if right == 0 else _finite(left / right)


def _call(node: Call, resolve: Resolve, shift: int) -> float | None:
    if FUNCTIONS[node.func].uses_areas:
        raise FormulaError(
            f"{node.func}() reads other areas and needs the engine, not a single value",
            node.pos,
        )
    if node.func == "prev_year":
        return _evaluate(node.args[0], resolve, shift + 1)
    if node.func == "growth":
        current = _evaluate(node.args[0], resolve, shift)
        before = _evaluate(node.args[0], resolve, shift + 1)
        return _arithmetic("-", _arithmetic("/", current, before), 1.0)
    values = [_evaluate(arg, resolve, shift) for arg in node.args]
    if any(value is None for value in values):
        return None
    return {"abs": abs, "min": min, "max": max}[node.func](*values)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
