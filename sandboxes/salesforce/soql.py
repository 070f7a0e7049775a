"""A small SOQL tokenizer and parser: SELECT fields FROM object [WHERE …] [ORDER BY …] [LIMIT n] [OFFSET n]."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import malformed_query

TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\dT]))
  | (?P<number>-?\d+(?:\.\d+)?(?![\w-]))
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
""", re.VERBOSE)
KEYWORDS = {"select", "from", "where", "and", "or", "not", "in", "like", "order", "by", "asc", "desc",
            "nulls", "first", "last", "limit", "offset", "null", "true", "false", "includes", "excludes",
            "group", "having", "with", "for", "using"}
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\",
           "%": "\\%", "_": "\\_"}


@dataclass(frozen=True)
class Token:
    """One lexical token; kind is string|datetime|date|number|op|punct|ident|kw|end."""

    kind: str
    text: str
    column: int

    @property
    def word(self) -> str:
        """Lower-case text (for keyword tests)."""
        return self.text.lower()


@dataclass
class Query:
    """A parsed SOQL query."""

    fields: list[str]
    sobject: str
    where: tuple | None = None
    order: list[tuple[str, bool, bool]] = field(default_factory=list)  # (path, descending, nulls_first)
    limit: int | None = None
    offset: int = 0


def _unescape(literal: str) -> str:
    """The value of a quoted SOQL string (LIKE wildcards stay escaped)."""
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            if body[i + 1] not in ESCAPES:
                raise malformed_query(f"Invalid string literal {literal}: illegal escape sequence")
            out.append(ESCAPES[body[i + 1]])
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def tokenize(text: str) -> list[Token]:
    """Tokens of a SOQL string; MALFORMED_QUERY on a character no token accepts."""
    tokens, pos = [], 0
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if match is None:
            raise malformed_query(f"ERROR at Row:1:Column:{pos + 1}\nunexpected token: '{text[pos:pos + 20]}'")
        kind = match.lastgroup
        if kind != "ws":
            if kind == "ident" and match.group().lower() in KEYWORDS:
                kind = "kw"
            tokens.append(Token(kind, match.group(), pos + 1))
        pos = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


class Parser:
    """Recursive-descent parser over the token list."""

    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self) -> Token:
        """The current token."""
        return self.tokens[self.pos]

    def take(self) -> Token:
        """Consume and return the current token."""
        token = self.tokens[self.pos]
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def fail(self, token: Token | None = None):
        """Raise MALFORMED_QUERY at a token."""
        token = token or self.peek()
        shown = token.text or "<EOF>"
        raise malformed_query(f"ERROR at Row:1:Column:{token.column}\nunexpected token: '{shown}'")

    def keyword(self, *words: str) -> Token | None:
        """Consume the current token when it is one of these keywords."""
        token = self.peek()
        if token.kind == "kw" and token.word in words:
            return self.take()
        return None

    def expect_kw(self, word: str) -> None:
        """Consume a required keyword."""
        if not self.keyword(word):
            self.fail()

    def expect(self, kind: str, text: str | None = None) -> Token:
        """Consume a required token of a kind (and text)."""
        token = self.peek()
        if token.kind != kind or (text is not None and token.text != text):
            self.fail()
        return self.take()

    def parse(self) -> Query:
        """The whole query."""
        self.expect_kw("select")
        fields = self.field_list()
        self.expect_kw("from")
        query = Query(fields=fields, sobject=self.expect("ident").text)
        if self.keyword("where"):
            query.where = self.expression()
        if self.keyword("order"):
            self.expect_kw("by")
            query.order = self.order_list()
        if self.keyword("limit"):
            query.limit = self.integer()
        if self.keyword("offset"):
            query.offset = self.integer()
        if self.peek().kind != "end":
            self.fail()
        return query

    def field_list(self) -> list[str]:
        """ident (, ident)*; duplicates refused like Salesforce."""
        names = [self.expect("ident").text]
        while self.peek().text == ",":
            self.take()
            names.append(self.expect("ident").text)
        lowered = [n.lower() for n in names]
        for name in names:
            if lowered.count(name.lower()) > 1:
                raise malformed_query(f"duplicate field selected: {name}")
        return names

    def integer(self) -> int:
        """A non-negative integer literal."""
        token = self.expect("number")
        if not token.text.isdigit():
            self.fail(token)
        return int(token.text)

    def expression(self) -> tuple:
        """term ((AND|OR) term)*; mixing AND and OR without parentheses is refused, as in SOQL."""
        terms, joiner = [self.term()], None
        while (token := self.keyword("and", "or")) is not None:
            if joiner and token.word != joiner:
                raise malformed_query(f"ERROR at Row:1:Column:{token.column}\nunexpected token: "
                                      f"'{token.text}' (use parentheses to mix AND and OR)")
            joiner = token.word
            terms.append(self.term())
        return terms[0] if joiner is None else (joiner, terms)

    def term(self) -> tuple:
        """( expression ) | NOT term | condition."""
        if self.peek().text == "(":
            self.take()
            inner = self.expression()
            self.expect("punct", ")")
            return inner
        if self.keyword("not"):
            return ("not", self.term())
        return self.condition()

    def condition(self) -> tuple:
        """field op literal | field [NOT] IN (literals) | field LIKE 'pattern'."""
        path = self.expect("ident").text
        if self.keyword("like"):
            return ("like", path, self.literal())
        negate = bool(self.keyword("not"))
        if self.keyword("in"):
            return ("in", path, negate, self.literal_list())
        if negate:
            self.fail()
        op = self.expect("op").text
        return ("cmp", path, "!=" if op == "<>" else op, self.literal())

    def literal_list(self) -> list[tuple]:
        """( literal (, literal)* )."""
        self.expect("punct", "(")
        items = [self.literal()]
        while self.peek().text == ",":
            self.take()
            items.append(self.literal())
        self.expect("punct", ")")
        return items

    def literal(self) -> tuple:
        """(kind, value): string, date, datetime, number, null, boolean."""
        token = self.take()
        if token.kind == "string":
            return ("string", _unescape(token.text))
        if token.kind in ("date", "datetime", "number"):
            return (token.kind, token.text)
        if token.kind == "kw" and token.word in ("null", "true", "false"):
            return ("null", None) if token.word == "null" else ("boolean", token.word == "true")
        self.fail(token)

    def order_list(self) -> list[tuple[str, bool, bool]]:
        """field [ASC|DESC] [NULLS FIRST|LAST] (, …)*."""
        items = []
        while True:
            path = self.expect("ident").text
            descending = bool(self.keyword("asc", "desc") and self.tokens[self.pos - 1].word == "desc")
            nulls_first = not descending
            if self.keyword("nulls"):
                placement = self.expect("kw")
                if placement.word not in ("first", "last"):
                    self.fail(placement)
                nulls_first = placement.word == "first"
            items.append((path, descending, nulls_first))
            if self.peek().text != ",":
                return items
            self.take()


def parse(text: str) -> Query:
    """Parse a SOQL string; SfError MALFORMED_QUERY when it is outside the supported subset."""
    if not text or not text.strip():
        raise malformed_query("A query string has to be specified")
    return Parser(text).parse()
