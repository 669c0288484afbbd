"""The QuickBooks Online query language, parsed into a `Query` (pure: no I/O, no entity store).

Grammar (keywords case-insensitive, entity and field names case-sensitive):

    SELECT (* | COUNT(*)) FROM Entity
      [WHERE cond (AND cond)*]
      [(ORDERBY | ORDER BY) field [ASC|DESC] (, field [ASC|DESC])*]
      [STARTPOSITION n] [MAXRESULTS n]
    cond  := field op literal | field IN (literal, ...)
    op    := = | < | > | <= | >= | LIKE
    literal := 'single quoted' | number | true | false

Inside quotes, \\' is a quote and \\\\ a backslash; any other backslash is kept as it is, so
python-quickbooks' `filter(DisplayName="O'Brien\\Sons")` (which escapes only quotes) means what it says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

Literal = str | Decimal | bool

OPERATORS = ("=", "<", ">", "<=", ">=", "IN", "LIKE")
DEFAULT_MAX_RESULTS = 100
MAX_RESULTS_LIMIT = 1000


class QuerySyntaxError(ValueError):
    """A statement outside the grammar; the message says where."""


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Literal | tuple[Literal, ...]


@dataclass(frozen=True)
class Order:
    field: str
    descending: bool = False


@dataclass(frozen=True)
class Query:
    entity: str
    count: bool = False
    where: tuple[Condition, ...] = ()
    order_by: tuple[Order, ...] = ()
    start_position: int = 1
    max_results: int = DEFAULT_MAX_RESULTS


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:\\.|[^'\\])*')
      | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
      | (?P<op><=|>=|<>|!=|=|<|>)
      | (?P<punct>[(),*])
      | (?P<word>[A-Za-z_][\w.]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(['\\])", r"\1", body)


def tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            snippet = text[pos:].strip()[:20]
            if snippet.startswith("'"):
                raise QuerySyntaxError(f"unterminated string literal at position {pos}")
            raise QuerySyntaxError(f"unexpected text at position {pos}: {snippet!r}")
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def next(self, expected: str) -> _Token:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError(f"expected {expected} but the statement ended")
        self.index += 1
        return token

    def keyword(self, *words: str) -> None:
        token = self.next(" ".join(words))
        if not token.is_word(*words):
            raise QuerySyntaxError(f"expected {' or '.join(words)} at position {token.pos}, found {token.text!r}")

    def punct(self, char: str) -> None:
        token = self.next(repr(char))
        if token.text != char or token.kind != "punct":
            raise QuerySyntaxError(f"expected {char!r} at position {token.pos}, found {token.text!r}")

    def accept_word(self, *words: str) -> bool:
        token = self.peek()
        if token is not None and token.is_word(*words):
            self.index += 1
            return True
        return False

    def name(self, what: str) -> str:
        token = self.next(what)
        if token.kind != "word" or token.text.upper() in _RESERVED:
            raise QuerySyntaxError(f"expected {what} at position {token.pos}, found {token.text!r}")
        return token.text

    def literal(self) -> Literal:
        token = self.next("a value")
        if token.kind == "string":
            return _unquote(token.text)
        if token.kind == "number":
            return Decimal(token.text)
        if token.is_word("TRUE", "FALSE"):
            return token.text.upper() == "TRUE"
        raise QuerySyntaxError(f"expected a value at position {token.pos}, found {token.text!r}")

    def whole_number(self, what: str) -> int:
        token = self.next(what)
        text = token.text[1:-1] if token.kind == "string" else token.text
        if token.kind not in ("number", "string") or not text.isdigit():
            raise QuerySyntaxError(f"{what} must be a whole number, found {token.text!r}")
        return int(text)


_RESERVED = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "IN",
    "LIKE",
    "ORDERBY",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "STARTPOSITION",
    "MAXRESULTS",
    "COUNT",
}


def parse_query(text: str) -> Query:
    """Parse one statement; raises QuerySyntaxError for anything outside the grammar."""
    if not isinstance(text, str) or not text.strip():
        raise QuerySyntaxError("the query is empty")
    p = _Parser(text)
    p.keyword("SELECT")
    count = False
    if p.accept_word("COUNT"):
        p.punct("(")
        p.punct("*")
        p.punct(")")
        count = True
    else:
        p.punct("*")
    p.keyword("FROM")
    entity = p.name("an entity name")

    where: list[Condition] = []
    if p.accept_word("WHERE"):
        while True:
            where.append(_condition(p))
            if not p.accept_word("AND"):
                break
    token = p.peek()
    if token is not None and token.is_word("OR"):
        raise QuerySyntaxError(f"OR is not supported (position {token.pos}); only AND joins conditions")

    order: list[Order] = []
    if _accept_order_by(p):
        while True:
            name = p.name("a field to order by")
            descending = False
            if p.accept_word("DESC"):
                descending = True
            else:
                p.accept_word("ASC")
            order.append(Order(name, descending))
            token = p.peek()
            if token is None or token.text != ",":
                break
            p.punct(",")

    start, maximum = 1, DEFAULT_MAX_RESULTS
    seen: set[str] = set()
    while (
        (token := p.peek()) is not None
        and token.is_word("STARTPOSITION", "MAXRESULTS")
        and token.text.upper() not in seen
    ):
        seen.add(token.text.upper())
        p.index += 1
        if token.text.upper() == "STARTPOSITION":
            start = max(p.whole_number("STARTPOSITION"), 1)  # some clients send 0 and mean 1
        else:
            maximum = p.whole_number("MAXRESULTS")
            if not 1 <= maximum <= MAX_RESULTS_LIMIT:
                raise QuerySyntaxError(f"MAXRESULTS must be between 1 and {MAX_RESULTS_LIMIT}")

    leftover = p.peek()
    if leftover is not None:
        raise QuerySyntaxError(f"unexpected {leftover.text!r} at position {leftover.pos}")
    return Query(entity, count, tuple(where), tuple(order), start, maximum)


def _accept_order_by(p: _Parser) -> bool:
    if p.accept_word("ORDERBY"):
        return True
    if p.accept_word("ORDER"):
        p.keyword("BY")
        return True
    return False


def _condition(p: _Parser) -> Condition:
    field = p.name("a field name")
    token = p.next("an operator")
    if token.kind == "op":
        if token.text in ("<>", "!="):
            raise QuerySyntaxError(f"operator {token.text} is not supported (position {token.pos})")
        return Condition(field, token.text, p.literal())
    if token.is_word("LIKE"):
        value = p.literal()
        if not isinstance(value, str):
            raise QuerySyntaxError("LIKE takes a quoted pattern")
        return Condition(field, "LIKE", value)
    if token.is_word("IN"):
        p.punct("(")
        values = [p.literal()]
        while (nxt := p.peek()) is not None and nxt.text == ",":
            p.punct(",")
            values.append(p.literal())
        p.punct(")")
        return Condition(field, "IN", tuple(values))
    raise QuerySyntaxError(
        f"expected an operator ({', '.join(OPERATORS)}) at position {token.pos}, found {token.text!r}"
    )
