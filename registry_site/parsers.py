"""JSON from clients, decoded into values the registry can store and send back, or refused.

Python's `json` accepts more than the rest of the stack can take: nesting deep enough to
exhaust the recursion limit (while parsing, or later in any recursive walk: validation,
the JSONField's encoder, the renderer), numbers that overflow to infinity (`1e999999`, which
no JSON encoder may write back), lone UTF-16 surrogates (`"\\ud800"`, which cannot be encoded
to UTF-8 for the database), NUL characters (which PostgreSQL refuses in text and jsonb), and
duplicate keys (which parsers resolve differently, so a proxy and this app could each see
another value). Each of those used to surface as a 500 somewhere after parsing. Here they
are refused where the text is decoded, with a sentence, by the API's JSON parser (the
default parser class) and by the JSON fields of serializers and forms.
"""

import codecs
import json
import math
import re
from typing import Any

from rest_framework import parsers, serializers
from rest_framework.exceptions import ParseError, ValidationError

MAX_DEPTH = 32  # objects and arrays inside each other; the registry's deepest (a signature) uses 4
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")  # after decoding, a surrogate left in a str is a lone one


class JSONRefused(ValueError):
    """JSON text that is not valid, or not a value the registry can keep; says why in a sentence.

    `field` is the top-level key the bad value sits under, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


def json_loads(text: str | bytes) -> Any:
    """Decode JSON text (bytes must be UTF-8) into a value that is safe to store and render."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise JSONRefused("The JSON is not UTF-8 text.") from None
    try:
        value = json.loads(
            text, parse_constant=_refuse_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys
        )
    except RecursionError:
        raise JSONRefused(f"The JSON is nested too deeply: at most {MAX_DEPTH} levels.") from None
    except JSONRefused:
        raise
    except ValueError as error:  # JSONDecodeError, and int() past Python's digit limit
        raise JSONRefused(f"Enter valid JSON ({str(error)[:200]}).") from None
    json_value_check(value)
    return value


def json_value_check(value: Any) -> None:
    """Refuse a decoded value nested too deeply or holding text the database cannot store.

    Iterative, so the check itself never runs out of stack. The error names the top-level
    key the bad part sits under, so the API can say which field it was.
    """
    stack: list[tuple[Any, int, str | None]] = [(value, 0, None)]
    while stack:
        item, depth, field = stack.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise JSONRefused(f"The JSON is nested too deeply: at most {MAX_DEPTH} levels.", field=field)
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_text(key, field=field)
                    stack.append((child, depth + 1, key if depth == 0 else field))
            else:
                stack.extend((child, depth + 1, field) for child in item)
        elif isinstance(item, str):
            _check_text(item, field=field)
        elif isinstance(item, float) and not math.isfinite(item):
            raise JSONRefused("Numbers must be finite (not NaN or infinite).", field=field)


def _check_text(text: str, *, field: str | None) -> None:
    # The same sentences as DRF's CharField, which refuses these in plain text fields.
    bad = _BAD_TEXT.search(text)
    if bad is None:
        return
    if bad.group() == "\x00":
        raise JSONRefused("Null characters are not allowed.", field=field)
    raise JSONRefused(f"Surrogate characters are not allowed: U+{ord(bad.group()):X}.", field=field)


def _refuse_constant(name: str) -> Any:
    raise JSONRefused(f"The JSON holds {name}, which is not a JSON number.")


def _finite_float(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise JSONRefused(f"The JSON holds a number out of range ({literal[:20]}).")
    return number


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    result: dict = {}
    for key, item in pairs:
        if key in result:
            raise JSONRefused(f"The JSON names the key {key[:50]!r} twice.")
        result[key] = item
    return result


class JSONParser(parsers.JSONParser):
    """The API's JSON parser (the default): a body must be one JSON object of safe values."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})  # a text charset, never a codec like bz2
        try:
            text = codecs.getreader(encoding)(stream).read()
        except UnicodeDecodeError:
            raise ParseError(f"The body is not {encoding} text.") from None
        try:
            data = json_loads(text)
        except JSONRefused as error:
            if error.field is not None:  # well-formed, but one field's value cannot be kept
                raise ValidationError({error.field: [str(error)]}) from None
            raise ParseError(str(error)) from None
        if not isinstance(data, dict):
            raise ParseError(f"The body must be a JSON object, not {_json_type(data)}.")
        return data


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {list: "an array", str: "a string", bool: "a boolean"}.get(type(value), "a number")


class JSONField(serializers.JSONField):
    """DRF's JSONField with the same rules, for JSON sent as text in a form or multipart body."""

    def to_internal_value(self, data):
        if isinstance(data, str | bytes) and (self.binary or getattr(data, "is_json_string", False)):
            try:
                return json_loads(data)
            except JSONRefused as error:
                raise serializers.ValidationError(str(error)) from None
        try:
            json_value_check(data)
        except JSONRefused as error:
            raise serializers.ValidationError(str(error)) from None
        return super().to_internal_value(data)
