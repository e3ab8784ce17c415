"""What text and JSON from outside must be before anything is stored: the rules in one place.

Python's ``json`` module accepts more than JSON, and more than what we can keep. Each of these
got through to DynamoDB, an HTTP answer or a Word document and failed there — after some of
the request's writes were made:

- ``NaN``, ``Infinity``, ``-Infinity``: not JSON (RFC 8259 §6), not a DynamoDB Number, and
  written back by ``json.dumps`` as text a browser cannot parse.
- Numbers of any size: a 5,000-digit integer stops ``json.loads`` itself (Python's limit on
  int-string conversion), ``1e400`` becomes ``inf``, and a 40-digit number cannot be stored:
  a DynamoDB Number has at most 38 significant digits, and boto3 turns a Python ``int`` into a
  Decimal of *all* its digits, so ``10**40`` is refused before sending although DynamoDB could
  hold 1e40. An integral float read back from DynamoDB is an ``int`` (``core.dynamo``), so every
  number is held below 1e38, and above 1e-130 unless it is zero.
- Nesting as deep as Python's recursion limit: ``RecursionError``. Nothing we take is nested
  more than a few levels (a plan: 6), so :data:`MAX_DEPTH` is far above need.
- ``"\\ud800"``: a lone surrogate is a ``str`` that cannot be encoded as UTF-8, so boto3, moto,
  the HTTP answer and the fingerprint of an idempotent request all choke on it.
- Control characters: anything we accept may end up in a Word or HTML document (the briefing,
  the evaluation report), an e-mail or an SMS. XML 1.0 — which Word documents are — has no way
  to carry NUL and the other C0 controls (tab, line feed and carriage return excepted), nor
  U+FFFE/U+FFFF, so the rule for text is: characters XML 1.0 allows, nothing else.
- Duplicate keys: ``json.loads`` keeps the last silently; two readers of the same body could
  disagree on what it said.

Input from people and machines we answer (HTTP bodies, query strings, path parameters) is
refused with every problem at its JSON-pointer path (:func:`parse_json`, :func:`check_text`).
Crawled pages are not ours to refuse line by line: :func:`parse_crawled_json` turns unusable
numbers into ``null`` and :func:`clean_text` repairs text, so one broken entry costs that entry's
field, not the whole hot list. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.core.errors import Problem, ValidationError

MAX_DEPTH = 32
# What a DynamoDB Number written through boto3 can hold: 38 significant digits, and (see above)
# 1e-130 ≤ |x| < 1e38 unless zero.
MAX_SIGNIFICANT_DIGITS = 38
MIN_EXPONENT = -130
MAX_EXPONENT = 37
_INT_LIMIT = 10 ** (MAX_EXPONENT + 1)
# Longer literals are refused before any conversion (the longest that fits is about 170).
_MAX_LITERAL = 400
MAX_PROBLEMS = 20  # an answer lists this many problems at most; enough to fix a body
NUMBER_RULE = (
    f"numbers must have at most {MAX_SIGNIFICANT_DIGITS} significant digits and, unless zero, "
    f"a magnitude from 1e{MIN_EXPONENT} to below 1e{MAX_EXPONENT + 1}"
)
# Characters XML 1.0 allows (its production ``Char``); everything else is refused or removed.
_NOT_TEXT = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# json.loads refuses raw control characters in strings, and UTF-8 cannot carry a surrogate: a
# parsed string can hold an unacceptable character only through an escape (\u0000, \ud800,
# \b, \f) or a raw U+FFFE/U+FFFF. Without any, the strings need no second look.
_MAY_HOLD_BAD_TEXT = re.compile(r"\\[bfu]|[\ufffe\uffff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be accepted as text, or None when it can."""
    bad = _NOT_TEXT.search(value)
    if bad is None:
        return None
    char = bad.group()
    where = f"at character {bad.start() + 1}"
    if _SURROGATE.match(char):
        return (
            f"a lone surrogate ({_escaped(char)}) {where} is not a character and cannot be "
            "encoded as UTF-8"
        )
    if char in "\ufffe\uffff":
        return f"{_escaped(char)} {where} is not a character"
    return (
        f"control character {_escaped(char)} {where} is not allowed "
        "(only tab, line feed and carriage return)"
    )


def check_text(value: str, path: str, *, max_chars: int) -> str:
    """``value`` if it is acceptable text of at most ``max_chars`` characters, else a 400."""
    if len(value) > max_chars:
        raise ValidationError("value too long", [Problem(path, f"at most {max_chars} characters")])
    problem = text_problem(value)
    if problem is not None:
        raise ValidationError("value is not acceptable text", [Problem(path, problem)])
    return value


def clean_text(value: str) -> str:
    """Text from a crawled page made acceptable: a lone surrogate becomes U+FFFD (the
    replacement character, as a decoder would have made it), other non-characters go."""
    if _NOT_TEXT.search(value) is None:
        return value
    return _NOT_TEXT.sub(lambda m: "\ufffd" if _SURROGATE.match(m.group()) else "", value)


def number_problem(literal: str) -> str | None:
    """Why a JSON number literal cannot be kept, or None when it fits a DynamoDB Number."""
    if len(literal) > _MAX_LITERAL:
        return f"a number of {len(literal)} characters; {NUMBER_RULE}"
    try:
        number = Decimal(literal)
    except InvalidOperation:
        return f"not a number; {NUMBER_RULE}"
    if not number.is_finite():
        return f"{literal[:40]} is not a JSON number"
    if number.is_zero():
        return None
    significant = "".join(map(str, number.as_tuple().digits)).strip("0")
    if len(significant) > MAX_SIGNIFICANT_DIGITS or not (
        MIN_EXPONENT <= number.adjusted() <= MAX_EXPONENT
    ):
        return f"{literal[:40]}{'…' if len(literal) > 40 else ''} is out of range; {NUMBER_RULE}"
    return None


# -- strict parsing: HTTP bodies ---------------------------------------------------------------
class _Refused:
    """What a parse hook returns for a value it refuses; the walk reports it with its path."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class _Duplicated(dict[str, Any]):
    """An object that named some keys more than once (the walk reports them)."""

    duplicates: list[str]


def _int(literal: str) -> Any:
    """Only used to find where an integer too long for Python to read is (see parse_json)."""
    problem = number_problem(literal)
    return _Refused(problem) if problem else int(literal)


def _float(literal: str) -> Any:
    # Without an exponent, 38 characters are at most 37 digits, from 1e-36 to below 1e37.
    if len(literal) <= MAX_SIGNIFICANT_DIGITS and "e" not in literal and "E" not in literal:
        return float(literal)
    problem = number_problem(literal)
    return _Refused(problem) if problem else float(literal)


def _constant(name: str) -> Any:
    return _Refused(f"{name} is not a JSON number; {NUMBER_RULE}")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    marked = _Duplicated(found)
    seen: set[str] = set()
    marked.duplicates = []
    for key, _ in pairs:
        if key in seen:
            marked.duplicates.append(key)
        seen.add(key)
    return marked


def parse_json(data: bytes | str, what: str = "request body") -> Any:
    """Parse JSON from outside strictly: UTF-8, no NaN/Infinity, numbers that fit DynamoDB,
    nesting at most :data:`MAX_DEPTH`, text XML 1.0 can carry, no duplicate keys. Anything
    else is a :class:`ValidationError` (400) naming each problem at its path."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValidationError(
                f"{what} is not valid JSON",
                [Problem("", f"not UTF-8: invalid byte at position {err.start}")],
            ) from None
    data = data.removeprefix("\ufeff")  # RFC 8259 §8.1: a parser may ignore a byte-order mark
    hooks: dict[str, Any] = {
        "parse_float": _float,
        "parse_constant": _constant,
        "object_pairs_hook": _object,
    }
    try:
        try:
            # Integers are read natively (a hook per number costs tenfold) and bounded in the walk.
            value = json.loads(data, **hooks)
        except json.JSONDecodeError:
            raise
        except ValueError:
            # Past Python's int-string limit (4,300 digits): read again, marking where it is.
            value = json.loads(data, parse_int=_int, **hooks)
    except json.JSONDecodeError as err:
        raise ValidationError(f"{what} is not valid JSON", [Problem("", str(err))]) from None
    except RecursionError:
        raise ValidationError(
            f"{what} is nested too deeply", [Problem("", f"at most {MAX_DEPTH} levels")]
        ) from None
    problems = list(_problems(value, text=_MAY_HOLD_BAD_TEXT.search(data) is not None))
    if problems:
        raise ValidationError(
            f"{what} contains values that cannot be accepted", problems[:MAX_PROBLEMS]
        )
    return value


def _problems(root: Any, *, text: bool) -> Iterator[Problem]:
    """Every refused value under ``root``, in document order; iterative (the depth is the
    input's), and a path is only made for a container or a problem (a 256 KiB array of numbers
    stays cheap). ``text``: check strings too (see _MAY_HOLD_BAD_TEXT)."""
    if (problem := _scalar_problem(root, text)) is not None:
        yield Problem("", problem)
    stack: list[tuple[Any, str, int]] = [(root, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        kind = type(value)
        if kind is not list and kind is not dict and kind is not _Duplicated:
            continue
        if depth >= MAX_DEPTH:
            yield Problem(path, f"nested deeper than {MAX_DEPTH} levels")
            continue
        containers: list[tuple[Any, str, int]] = []
        if kind is list:
            pairs: Iterable[tuple[Any, Any]] = enumerate(value)
        else:
            pairs = value.items()
            if kind is _Duplicated:
                for key in value.duplicates:
                    yield Problem(f"{path}/{_pointer(key)}", "duplicate key")
        deepest = depth + 1 >= MAX_DEPTH
        for key, child in pairs:
            if text and kind is not list and (problem := text_problem(key)) is not None:
                yield Problem(f"{path}/{_pointer(key)}", f"the key: {problem}")
            child_kind = type(child)
            if child_kind is list or child_kind is dict or child_kind is _Duplicated:
                if child or deepest:  # an empty one can only be too deep
                    segment = str(key) if kind is list else _pointer(key)
                    containers.append((child, f"{path}/{segment}", depth + 1))
            elif (problem := _scalar_problem(child, text)) is not None:
                segment = str(key) if kind is list else _pointer(key)
                yield Problem(f"{path}/{segment}", problem)
        stack.extend(reversed(containers))


def _scalar_problem(value: Any, text: bool) -> str | None:
    kind = type(value)
    if kind is int:
        if -_INT_LIMIT < value < _INT_LIMIT:
            return None
        return f"{str(value)[:40]}… is out of range; {NUMBER_RULE}"
    if kind is str:
        return text_problem(value) if text else None
    if kind is _Refused:
        return str(value.reason)
    return None


def _pointer(key: str) -> str:
    """A key as a JSON-pointer segment (RFC 6901), with unacceptable characters escaped so the
    error answer itself can be sent, and cut to a readable length."""
    escaped = key.replace("~", "~0").replace("/", "~1")
    shown = _NOT_TEXT.sub(lambda m: _escaped(m.group()), escaped[:100])
    return shown + ("…" if len(escaped) > 100 else "")


def _escaped(char: str) -> str:
    return f"\\u{ord(char):04x}"


# -- lenient parsing: crawled responses --------------------------------------------------------
def _crawled_number(literal: str, convert: type[int] | type[float]) -> int | float | None:
    return None if number_problem(literal) else convert(literal)


def parse_crawled_json(text: str) -> Any:
    """JSON from a crawled site: ``NaN``/``Infinity`` and numbers that cannot be stored become
    ``null`` (a hot list with one broken heat value is still a hot list). Raises ``ValueError``
    (``json.JSONDecodeError`` for syntax) when there is no JSON to speak of; strings are left to
    :func:`clean_text` where items are made."""
    try:
        return json.loads(
            text,
            parse_int=lambda s: _crawled_number(s, int),
            parse_float=lambda s: _crawled_number(s, float),
            parse_constant=lambda _: None,
        )
    except RecursionError:
        raise ValueError("nested too deeply") from None
