"""SOQL execution: field paths through lookups, filters, ordering, projection and query-locator paging."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import SfError, invalid_type, no_such_column
from .schema import Field, field_named, object_named, objects, record_url, relationship, relationship_name
from .soql import Query, parse
from .state import SandboxState, api_prefix
from .values import parse_datetime, rest_value

STRING_TYPES = ("string", "textarea", "picklist", "url")
ID_TYPES = ("id", "reference")
LITERAL_FOR = {"date": "date", "datetime": "datetime", "boolean": "boolean"}


@dataclass(frozen=True)
class Path:
    """A resolved field path: lookups to follow, then the final field."""

    steps: tuple[Field, ...]
    final: Field


def resolve(state: SandboxState, sobject: str, text: str) -> Path:
    """Resolve `A__r.B.Field` from an object; INVALID_FIELD when a part is unknown."""
    parts, steps, current = text.split("."), [], [sobject]
    for part in parts[:-1]:
        ref = _relationship(state, current, part)
        steps.append(ref)
        current = [r for r in ref.refs if r in objects(state.config)]
    final = _field(state, current, parts[-1])
    if final is None:
        raise no_such_column(text, sobject)
    return Path(tuple(steps), final)


def _relationship(state: SandboxState, candidates: list[str], name: str) -> Field:
    """The lookup behind a relationship name on any candidate object."""
    for sobject in candidates:
        ref = relationship(state.config, sobject, name)
        if ref is not None:
            return ref
    raise SfError(400, "INVALID_FIELD", f"Didn't understand relationship '{name}' in field path. If you are "
                  "attempting to use a custom relationship, be sure to append the '__r' after the custom "
                  "relationship name. Please reference your WSDL or the describe call for the appropriate names.")


def _field(state: SandboxState, candidates: list[str], name: str) -> Field | None:
    """A field of the first candidate object that has it."""
    for sobject in candidates:
        found = field_named(state.config, sobject, name)
        if found is not None:
            return found
    return None


def follow(state: SandboxState, rec: dict | None, steps) -> dict | None:
    """The record reached through lookups (None when a lookup is empty or points at a deleted record)."""
    for ref in steps:
        target = rec.get(ref.name) if rec else None
        found = state.find(target) if target else None
        rec = found[1] if found and not found[1]["IsDeleted"] else None
    return rec


def value_of(state: SandboxState, rec: dict, path: Path):
    """The value of a path on a record."""
    target = follow(state, rec, path.steps)
    return target.get(path.final.name) if target else None


# Filters --------------------------------------------------------------------------------------

def _bad_filter(field: Field, expected: str, quoted: bool) -> SfError:
    """INVALID_QUERY_FILTER_OPERATOR for a literal of the wrong type."""
    quotes = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
    return SfError(400, "INVALID_QUERY_FILTER_OPERATOR",
                   f"value of filter criterion for field '{field.name}' must be of type {expected} and {quotes}")


def _check_literal(field: Field, literal: tuple, op: str) -> None:
    """Refuse literals whose type does not fit the field, and ordering operators on null or booleans."""
    kind = literal[0]
    if kind == "null":
        if op not in ("=", "!="):
            raise SfError(400, "INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on null for field '{field.name}'")
        return
    expected = LITERAL_FOR.get(field.type, "string")
    if kind != expected:
        raise _bad_filter(field, {"date": "date", "datetime": "dateTime"}.get(expected, expected),
                          expected == "string")
    if expected == "boolean" and op not in ("=", "!="):
        raise SfError(400, "INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on boolean field '{field.name}'")


def _norm(field: Field, value):
    """Comparable form: case-folded text, 15-char ids, aware datetimes."""
    if value is None:
        return None
    if field.type in ID_TYPES:
        return value[:15]
    if field.type in STRING_TYPES:
        return value.casefold()
    if field.type == "datetime":
        return parse_datetime(value)
    return value


def _compare(op: str, left, right) -> bool:
    """SOQL comparison where null equals only null and never orders."""
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if left is None or right is None:
        return False
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def _like(pattern: str) -> re.Pattern:
    """A case-insensitive regex for a LIKE pattern (% any run, _ one char, \\% and \\_ literal)."""
    out = []
    for token in re.findall(r"\\[%_]|.", pattern, re.S):
        out.append({"%": ".*", "_": "."}.get(token, re.escape(token[-1])))
    return re.compile("".join(out), re.S | re.I)


def compile_where(state: SandboxState, sobject: str, node):
    """A predicate record -> bool for a WHERE tree (types checked once, up front)."""
    if node is None:
        return lambda rec: True
    kind = node[0]
    if kind in ("and", "or"):
        parts = [compile_where(state, sobject, child) for child in node[1]]
        combine = all if kind == "and" else any
        return lambda rec: combine(p(rec) for p in parts)
    if kind == "not":
        inner = compile_where(state, sobject, node[1])
        return lambda rec: not inner(rec)
    path = resolve(state, sobject, node[1])
    if kind == "like":
        return _like_predicate(state, path, node[2])
    if kind == "in":
        for literal in node[3]:
            _check_literal(path.final, literal, "=")
        wanted = {_norm(path.final, lit[1]) for lit in node[3]}
        negate = node[2]
        return lambda rec: (_norm(path.final, value_of(state, rec, path)) in wanted) != negate
    _check_literal(path.final, node[3], node[2])
    right = _norm(path.final, node[3][1])
    return lambda rec: _compare(node[2], _norm(path.final, value_of(state, rec, path)), right)


def _like_predicate(state: SandboxState, path: Path, literal: tuple):
    """LIKE applies to text fields with a quoted pattern."""
    if path.final.type not in STRING_TYPES + ID_TYPES or literal[0] != "string":
        raise SfError(400, "INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on field '{path.final.name}'")
    regex = _like(literal[1])
    return lambda rec: (lambda v: v is not None and bool(regex.fullmatch(v)))(value_of(state, rec, path))


# Ordering and projection ---------------------------------------------------------------------

def _sort(state: SandboxState, rows: list[dict], order: list[tuple[Path, bool, bool]]) -> None:
    """Stable multi-key sort with NULLS FIRST/LAST."""
    for path, descending, nulls_first in reversed(order):
        null_rank = 0 if nulls_first != descending else 1

        def key(rec, path=path, null_rank=null_rank):
            """Sort key with nulls ranked apart from values."""
            value = _norm(path.final, value_of(state, rec, path))
            return (null_rank, "") if value is None else (1 - null_rank, value)
        rows.sort(key=key, reverse=descending)


def _attributes(sobject: str, record_id: str) -> dict:
    """The `attributes` of a record in REST answers."""
    return {"type": sobject, "url": record_url(sobject, record_id)}


def project(state: SandboxState, sobject: str, rec: dict, paths: list[Path]) -> dict:
    """A record as /query returns it: attributes, then the selected fields, lookups nested."""
    out = {"attributes": _attributes(sobject, rec["Id"])}
    for path in paths:
        _place(state, out, rec, list(path.steps), path.final)
    return out


def _place(state: SandboxState, out: dict, rec: dict, steps: list[Field], final: Field) -> None:
    """Put one path's value into `out`, nesting a relationship object per lookup."""
    if not steps:
        out[final.name] = rest_value(final, rec.get(final.name))
        return
    ref, name = steps[0], relationship_name(steps[0])
    target = follow(state, rec, [ref])
    if target is None:
        out.setdefault(name, None)
        return
    nested = out.get(name) or {"attributes": _attributes(state.find(target["Id"])[0], target["Id"])}
    out[name] = nested
    _place(state, nested, target, steps[1:], final)


def run(state: SandboxState, text: str, *, include_deleted: bool = False) -> list[dict]:
    """Every projected record a SOQL query selects."""
    query: Query = parse(text)
    sobject = object_named(state.config, query.sobject)
    if sobject is None:
        raise invalid_type(query.sobject)
    paths = [resolve(state, sobject, name) for name in query.fields]
    keep = compile_where(state, sobject, query.where)
    order = [(resolve(state, sobject, p), d, n) for p, d, n in query.order]
    with state.lock:
        rows = [rec for rec in state.table(sobject).values()
                if (include_deleted or not rec["IsDeleted"]) and keep(rec)]
        _sort(state, rows, order)
        end = None if query.limit is None else query.offset + query.limit
        return [project(state, sobject, rec, paths) for rec in rows[query.offset:end]]


def page(state: SandboxState, rows: list[dict], cursor: str | None, offset: int) -> dict:
    """One batch of rows as a query answer; stores the rows under a locator when more remain."""
    batch = max(1, state.config.max_query_batch)
    chunk = rows[offset:offset + batch]
    answer = {"totalSize": len(rows), "done": offset + batch >= len(rows)}
    if not answer["done"]:
        with state.lock:
            if cursor is None:
                cursor = state.new_id("01g")
                state.cursors[cursor] = rows
        answer["nextRecordsUrl"] = f"{api_prefix()}/query/{cursor}-{offset + batch}"
    answer["records"] = chunk
    return answer


def more(state: SandboxState, locator: str) -> dict:
    """The batch a nextRecordsUrl names; INVALID_QUERY_LOCATOR when unknown."""
    cursor, _, offset = locator.rpartition("-")
    with state.lock:
        rows = state.cursors.get(cursor)
    if rows is None or not offset.isdigit() or int(offset) > len(rows):
        raise SfError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    return page(state, rows, cursor, int(offset))
