"""Subject rules (监测主体规则): a small boolean language over keywords, matched on raw text.

A plan's subject says which posts concern it with a rule such as::

    (市第一医院 OR 一院) AND (医闹 OR 纠纷 OR "患者 死亡") NOT 招聘
    爆炸 NEAR/10 (化工厂 OR 仓库)

Grammar (operators are upper-case words; everything else is a keyword)::

    rule    := or
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*          adjacent operands mean AND
    unary   := "NOT" unary | near
    near    := primary ("NEAR/" n primary)*    n = 0…500 characters between the two
    primary := keyword | "quoted phrase" | “quoted phrase” | "(" or ")"

Keywords are matched as substrings of the text after NFKC normalisation and lower-casing, so
Chinese (which has no spaces) matches without segmentation and ``ＡＢＣ`` equals ``abc``. A
quoted phrase may contain spaces and operator words. ``NEAR/n`` holds when an occurrence of
one side ends at most ``n`` characters before an occurrence of the other begins (either order);
its operands must be keywords, phrases or parenthesised ``OR`` groups of them, because "near"
means nothing for ``NOT`` or ``AND``.

Rules are parsed once per plan version (:func:`parse`); a syntax error is a
:class:`RuleSyntaxError` carrying the 0-based character ``position`` so the plan editor can
point at it. Matching (:meth:`Rule.match`) returns the keywords that made the rule true, which
become the risk score's reasons.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib.core.errors import Problem, ValidationError

MAX_RULE_LENGTH = 2000
MAX_NEAR = 500
MAX_DEPTH = 40

_OPERATORS = frozenset({"AND", "OR", "NOT"})
_NEAR = re.compile(r"NEAR/(\d+)$")
_QUOTES = {'"': '"', "“": "”", "「": "」"}
_SPECIAL = frozenset('()"“”「」')


def normalise(text: str) -> str:
    """The form both rules and texts are compared in: NFKC, lower case."""
    return unicodedata.normalize("NFKC", text).lower()


class RuleSyntaxError(ValidationError):
    """A rule that cannot be parsed; ``position`` is the 0-based character offset of the fault."""

    def __init__(self, message: str, position: int) -> None:
        located = f"{message} (at position {position})"
        super().__init__(located, [Problem("rule", located, position)])
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return f"{self.message} (at position {self.position})"


# -- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "word", "phrase", "and", "or", "not", "near", "(", ")", "end"
    text: str
    position: int
    distance: int = 0


def _tokenise(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "()":
            tokens.append(_Token(ch, ch, i))
            i += 1
            continue
        if ch in _QUOTES:
            close = text.find(_QUOTES[ch], i + 1)
            if close < 0:
                raise RuleSyntaxError("unclosed quotation mark", i)
            phrase = text[i + 1 : close]
            if not phrase.strip():
                raise RuleSyntaxError("empty quoted phrase", i)
            tokens.append(_Token("phrase", phrase, i))
            i = close + 1
            continue
        if ch in "”」":
            raise RuleSyntaxError("closing quotation mark without an opening one", i)
        start = i
        while i < n and not text[i].isspace() and text[i] not in _SPECIAL:
            i += 1
        word = text[start:i]
        if word in _OPERATORS:
            tokens.append(_Token(word.lower(), word, start))
        elif word.startswith("NEAR"):
            near = _NEAR.match(word)
            if near is None:
                raise RuleSyntaxError("NEAR needs a distance, as in NEAR/10", start)
            distance = int(near.group(1))
            if distance > MAX_NEAR:
                raise RuleSyntaxError(f"NEAR distance must be at most {MAX_NEAR}", start)
            tokens.append(_Token("near", word, start, distance))
        else:
            tokens.append(_Token("word", word, start))
    tokens.append(_Token("end", "", n))
    return tokens


# -- syntax tree ----------------------------------------------------------------------------


class Node:
    """A compiled rule node. ``hits`` adds the keywords that made it true (if it is true)."""

    def evaluate(self, text: str, hits: set[str]) -> bool:
        raise NotImplementedError

    def positive_terms(self) -> Iterable[str]:
        """Keywords that can make the rule true (not under NOT)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Term(Node):
    keyword: str  # normalised
    source: str  # as written

    def evaluate(self, text: str, hits: set[str]) -> bool:
        if self.keyword in text:
            hits.add(self.source)
            return True
        return False

    def positive_terms(self) -> Iterable[str]:
        return (self.source,)

    def spans(self, text: str) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        start = text.find(self.keyword)
        while start >= 0:
            found.append((start, start + len(self.keyword)))
            start = text.find(self.keyword, start + 1)
        return found


@dataclass(frozen=True)
class AnyOf(Node):
    """``a OR b OR …``."""

    parts: tuple[Node, ...]

    def evaluate(self, text: str, hits: set[str]) -> bool:
        # Evaluate every part so that every matching keyword is reported.
        results = [part.evaluate(text, hits) for part in self.parts]
        return any(results)

    def positive_terms(self) -> Iterable[str]:
        for part in self.parts:
            yield from part.positive_terms()


@dataclass(frozen=True)
class AllOf(Node):
    """``a AND b AND …``; stops at the first false part."""

    parts: tuple[Node, ...]

    def evaluate(self, text: str, hits: set[str]) -> bool:
        found: set[str] = set()
        for part in self.parts:
            if not part.evaluate(text, found):
                return False
        hits.update(found)
        return True

    def positive_terms(self) -> Iterable[str]:
        for part in self.parts:
            yield from part.positive_terms()


@dataclass(frozen=True)
class Not(Node):
    part: Node

    def evaluate(self, text: str, hits: set[str]) -> bool:
        return not self.part.evaluate(text, set())

    def positive_terms(self) -> Iterable[str]:
        return ()


@dataclass(frozen=True)
class Near(Node):
    """Two keyword groups within ``distance`` characters of each other, in either order."""

    left: tuple[Term, ...]
    right: tuple[Term, ...]
    distance: int

    def evaluate(self, text: str, hits: set[str]) -> bool:
        left = [(span, term) for term in self.left for span in term.spans(text)]
        if not left:
            return False
        right = [(span, term) for term in self.right for span in term.spans(text)]
        for (a_start, a_end), a_term in left:
            for (b_start, b_end), b_term in right:
                gap = b_start - a_end if b_start >= a_end else a_start - b_end
                overlapping = gap < 0
                if overlapping or gap <= self.distance:
                    hits.add(a_term.source)
                    hits.add(b_term.source)
                    return True
        return False

    def positive_terms(self) -> Iterable[str]:
        return [t.source for t in (*self.left, *self.right)]


# -- parser ---------------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._i = 0
        self._depth = 0

    @property
    def _peek(self) -> _Token:
        return self._tokens[self._i]

    def _take(self) -> _Token:
        token = self._tokens[self._i]
        self._i += 1
        return token

    def parse(self) -> Node:
        node = self._or()
        token = self._peek
        if token.kind == ")":
            raise RuleSyntaxError("')' without a matching '('", token.position)
        if token.kind != "end":
            raise RuleSyntaxError(f"unexpected {token.text!r}", token.position)
        return node

    def _or(self) -> Node:
        parts = [self._and()]
        while self._peek.kind == "or":
            self._take()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def _and(self) -> Node:
        parts = [self._unary()]
        while True:
            kind = self._peek.kind
            if kind == "and":
                self._take()
                parts.append(self._unary())
            elif kind in {"word", "phrase", "not", "("}:
                parts.append(self._unary())
            else:
                break
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def _unary(self) -> Node:
        if self._peek.kind == "not":
            self._take()
            return Not(self._unary())
        return self._near()

    def _near(self) -> Node:
        start = self._peek
        node = self._primary()
        while self._peek.kind == "near":
            near = self._take()
            right_start = self._peek
            right = self._primary()
            left_terms = _terms_of(node, start.position)
            node = Near(left_terms, _terms_of(right, right_start.position), near.distance)
        return node

    def _primary(self) -> Node:
        token = self._take()
        if token.kind in {"word", "phrase"}:
            keyword = normalise(token.text)
            if not keyword.strip():
                raise RuleSyntaxError("empty keyword", token.position)
            return Term(keyword, token.text)
        if token.kind == "(":
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise RuleSyntaxError(f"more than {MAX_DEPTH} nested parentheses", token.position)
            if self._peek.kind == ")":
                raise RuleSyntaxError("empty parentheses", token.position)
            node = self._or()
            closing = self._take()
            if closing.kind != ")":
                raise RuleSyntaxError("'(' is never closed", token.position)
            self._depth -= 1
            return node
        if token.kind == "end":
            raise RuleSyntaxError("the rule ends where a keyword is expected", token.position)
        if token.kind == ")":
            raise RuleSyntaxError("')' where a keyword is expected", token.position)
        raise RuleSyntaxError(f"{token.text} where a keyword is expected", token.position)


def _terms_of(node: Node, position: int) -> tuple[Term, ...]:
    if isinstance(node, Term):
        return (node,)
    if isinstance(node, AnyOf) and all(isinstance(p, Term) for p in node.parts):
        return tuple(p for p in node.parts if isinstance(p, Term))
    raise RuleSyntaxError(
        "NEAR joins keywords, phrases or (a OR b) groups of them, not AND/NOT/NEAR", position
    )


# -- public API -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A parsed rule. ``text`` is the rule as written."""

    text: str
    root: Node

    def match(self, text: str, *, normalised: bool = False) -> tuple[str, ...] | None:
        """The keywords that make the rule true for ``text`` (sorted), or None if it is false."""
        subject = text if normalised else normalise(text)
        hits: set[str] = set()
        if not self.root.evaluate(subject, hits):
            return None
        return tuple(sorted(hits))

    def keywords(self) -> tuple[str, ...]:
        """Every keyword that can make the rule true, as written."""
        return tuple(dict.fromkeys(self.root.positive_terms()))


def parse(text: str) -> Rule:
    """Parse a rule; raises :class:`RuleSyntaxError` with the position of the first fault."""
    if not isinstance(text, str):
        raise RuleSyntaxError("a rule must be a string", 0)
    if len(text) > MAX_RULE_LENGTH:
        raise RuleSyntaxError(f"a rule may be at most {MAX_RULE_LENGTH} characters", 0)
    if not text.strip():
        raise RuleSyntaxError("the rule is empty", 0)
    root = _Parser(_tokenise(text)).parse()
    if not any(True for _ in root.positive_terms()):
        raise RuleSyntaxError("the rule only excludes: it needs a keyword outside NOT", 0)
    return Rule(text, root)


def check(text: str) -> str | None:
    """The plan validator's ``rule_check``: an error message with its position, or None."""
    try:
        parse(text)
    except RuleSyntaxError as err:
        return str(err)
    return None
