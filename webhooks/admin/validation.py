"""Validation errors in the admin's words (issue #27): the one place that turns pydantic's errors into French or
English sentences naming the field by its label. No pydantic wording ("Input should be a valid integer"), no link to
its docs and no code reaches an admin page. The playbook's own rules (config/playbook.py) are recognised by their
wording and said the same way."""
from __future__ import annotations

import re
from typing import Callable, Mapping

from pydantic import ValidationError

from webhooks.admin.i18n import known, say

_BY_TYPE = {
    "missing": "err_missing", "int_parsing": "err_number", "int_type": "err_number", "int_from_float": "err_number",
    "float_parsing": "err_number", "float_type": "err_number", "greater_than_equal": "err_min",
    "greater_than": "err_min", "less_than_equal": "err_max", "less_than": "err_max", "string_too_short": "err_empty",
    "too_short": "err_empty", "string_too_long": "err_long", "too_long": "err_long", "literal_error": "err_choice",
    "enum": "err_choice", "extra_forbidden": "err_unknown_field",
}
_LIMITS = ("ge", "gt", "le", "lt", "max_length")
_RULES = (  # config/playbook.py's rules, by their wording
    (re.compile(r"unknown placeholder \{(?P<name>[^}]*)\}"), "err_placeholder"),
    (re.compile(r"malformed placeholder|takes no format spec"), "err_braces"),
    (re.compile(r"each case may be listed only once"), "err_case_twice"),
    (re.compile(r"a bench step must use anchor"), "err_bench_anchor"),
    (re.compile(r"anchor 'bench' is only for kind"), "err_bench_kind"),
    (re.compile(r"only bench steps may recur"), "err_recur"),
    (re.compile(r"'notice' needs cases"), "err_notice"),
)


def sentence(error: Mapping, label: str, lang: str) -> str:
    """One pydantic error (an item of `ValidationError.errors()`) as a sentence about the field called `label`."""
    ctx = error.get("ctx") or {}
    limit = next((ctx[k] for k in _LIMITS if k in ctx), "")
    key = _BY_TYPE.get(str(error.get("type")))
    if key is None:
        text, key, found = str(ctx.get("error") or error.get("msg") or ""), "err_value", None
        for pattern, rule in _RULES:
            found = pattern.search(text)
            if found:
                key = rule
                break
        if key == "err_placeholder" and found is not None:
            from webhooks.admin.i18n import PLACEHOLDER_WORDS, placeholders_as_words

            allowed = ", ".join(placeholders_as_words("{" + p + "}", lang) for p in PLACEHOLDER_WORDS)
            return say(key, lang, field=label, name=found.group("name"), allowed=allowed)
    return say(key, lang, field=label, limit=limit)


def label_of(field: str, lang: str, labels: Mapping[str, str] | None = None) -> str:
    """A field's label in the page's language: the page's own, else the admin words' for that name."""
    from webhooks.admin.i18n import word

    if labels and field in labels:
        return labels[field]
    return word(field, lang) if known(field) else field.replace("_", " ")


def field_errors(exc: ValidationError, lang: str, *, field_of: Callable[[Mapping], str] | None = None,
                 labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """{form field: sentence}, the first error of each field; `field_of` maps an error to its form field (default:
    the first part of its location, '_' for the whole form)."""
    out: dict[str, str] = {}
    for error in exc.errors():
        field = field_of(error) if field_of else (str(error["loc"][0]) if error.get("loc") else "_")
        out.setdefault(field, sentence(error, label_of(field, lang, labels), lang))
    return out


def one_line(exc: Exception, lang: str, labels: Mapping[str, str] | None = None) -> str:
    """A validation error in one line of sentences (any other error: its own text, already in words)."""
    if isinstance(exc, ValidationError):
        return " ".join(field_errors(exc, lang, labels=labels).values())
    return str(exc)
