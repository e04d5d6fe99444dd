"""MLflow's search filter strings (`name = 'iris' AND tag.stage != 'old'`), parsed into
conditions the views turn into queries.

Written here rather than taken from MLflow: its parser (`mlflow.utils.search_utils`, on
sqlparse) lives in the `mlflow` package, which the server does not install. The grammar the
client and its users send is small: conditions joined by AND; a field (`name`, `run_id`,
`version_number`, `tag.<key>` / `tags.<key>`, keys optionally in backquotes or double quotes);
an operator (`=`, `!=`, `LIKE`, `ILIKE`, `IN`); a quoted string, a number, or for IN a
parenthesised list. Anything else is INVALID_PARAMETER_VALUE with the position it stopped at.
"""

import re
from dataclasses import dataclass

from .protocol import invalid

MAX_FILTER = 4000
MAX_CONDITIONS = 20

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>!=|<>|=|<=|>=|<|>)
      | (?P<paren>[(),])
      | (?P<field>(?:tags?|attributes?|params?|metrics?)\.(?:`[^`]+`|"[^"]+"|[\w.\-]+)|[A-Za-z_][\w]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Condition:
    field: str  # "name", "run_id", ... or "tag"
    key: str  # the tag's key; "" for attributes
    op: str  # "=", "!=", "LIKE", "ILIKE", "IN"
    value: object  # str, or a tuple of str for IN

    def matches(self, text: str | None) -> bool:
        """Python's answer for one value (None: the tag is not set)."""
        if self.op == "!=":
            return text is None or text != self.value
        if text is None:
            return False
        if self.op == "=":
            return text == self.value
        if self.op == "IN":
            return text in self.value
        return re.fullmatch(like_regex(self.value), text, re.IGNORECASE if self.op == "ILIKE" else 0) is not None


def like_regex(pattern: str) -> str:
    """SQL LIKE as a regular expression: % any run of characters, _ one character."""
    return "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)


def _unquote(text: str) -> str:
    if text[0] == "'":
        return text[1:-1].replace("''", "'").replace("\\'", "'")
    return text[1:-1].replace('\\"', '"')


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise invalid(f"Invalid filter at character {position}: '{text[position : position + 30]}'.")
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "field" and value.upper() in ("AND", "LIKE", "ILIKE", "IN"):
            kind = "word"
            value = value.upper()
        elif kind == "field" and value.upper() in ("OR", "NOT"):
            raise invalid("Only AND joins conditions in a filter here (no OR, no NOT).")
        tokens.append((kind, value))
        position = match.end()
    return tokens


def _field(token: str, allowed: set[str]) -> tuple[str, str]:
    head, _, key = token.partition(".")
    if key and head in ("tag", "tags"):
        if key[0] in '`"':
            key = key[1:-1]
        if "tag" not in allowed:
            raise invalid("This search does not filter on tags.")
        return "tag", key
    name = key if head in ("attribute", "attributes") and key else token
    if name not in allowed:
        raise invalid(f"Invalid filter field '{token}'; this search filters on: {', '.join(sorted(allowed))}.")
    return name, ""


def parse_filter(text: str, *, allowed: set[str]) -> list[Condition]:
    """The conditions of a filter string, all of which must hold."""
    if not text or not text.strip():
        return []
    if len(text) > MAX_FILTER:
        raise invalid(f"A filter is at most {MAX_FILTER} characters.")
    tokens = _tokens(text)
    conditions, index = [], 0
    while True:
        if index + 1 >= len(tokens):
            raise invalid(f"Invalid filter '{text[:80]}': expected <field> <operator> <value>.")
        kind, token = tokens[index]
        if kind != "field":
            raise invalid(f"Invalid filter '{text[:80]}': expected a field name, found '{token}'.")
        field, key = _field(token, allowed)
        op_kind, op = tokens[index + 1]
        if op_kind == "op":
            op = "!=" if op == "<>" else op
            if op not in ("=", "!="):
                raise invalid(f"The operator '{op}' is not supported here; use =, !=, LIKE, ILIKE or IN.")
        elif op_kind != "word" or op not in ("LIKE", "ILIKE", "IN"):
            raise invalid(f"Invalid filter '{text[:80]}': expected an operator after '{token}'.")
        index += 2
        if op == "IN":
            values, index = _in_list(tokens, index, text)
            conditions.append(Condition(field, key, op, values))
        else:
            if index >= len(tokens):
                raise invalid(f"Invalid filter '{text[:80]}': expected a value after {op}.")
            value_kind, value = tokens[index]
            if value_kind == "string":
                value = _unquote(value)
            elif value_kind != "number":
                raise invalid(f"Invalid filter '{text[:80]}': expected a quoted value after {op}.")
            conditions.append(Condition(field, key, op, value))
            index += 1
        if len(conditions) > MAX_CONDITIONS:
            raise invalid(f"A filter holds at most {MAX_CONDITIONS} conditions.")
        if index == len(tokens):
            return conditions
        if tokens[index] != ("word", "AND"):
            raise invalid(f"Invalid filter '{text[:80]}': conditions are joined by AND.")
        index += 1
        if index == len(tokens):
            raise invalid(f"Invalid filter '{text[:80]}': a condition must follow AND.")


def _in_list(tokens, index, text) -> tuple[tuple[str, ...], int]:
    if index >= len(tokens) or tokens[index] != ("paren", "("):
        raise invalid(f"Invalid filter '{text[:80]}': IN takes a list in parentheses.")
    values, index = [], index + 1
    while index < len(tokens):
        kind, value = tokens[index]
        if kind not in ("string", "number"):
            break
        values.append(_unquote(value) if kind == "string" else value)
        index += 1
        if index < len(tokens) and tokens[index] == ("paren", ","):
            index += 1
            continue
        if index < len(tokens) and tokens[index] == ("paren", ")"):
            return tuple(values), index + 1
        break
    raise invalid(f"Invalid filter '{text[:80]}': IN takes a list of quoted values in parentheses.")
