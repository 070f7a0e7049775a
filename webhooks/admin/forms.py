"""Turning admin forms into validated data, and validation errors into messages next to their fields."""
from __future__ import annotations

import re

from pydantic import ValidationError

from config.playbook import Step

STEP_FIELDS = ("enabled", "title_fr", "title_en", "text_fr", "text_en", "offset_days", "offset_unit",
               "offset_anchor", "assignee", "priority")
_PREFIX = re.compile(r"^([a-z_]+(?:\.[a-z_]+)?):\s*")


def step_form(step: Step | None) -> dict:
    """Form values from a step (or blanks for a new one)."""
    if step is None:
        return {"id": "", "cases": "natural", "kind": "task", "enabled": True, "title_fr": "", "title_en": "",
                "text_fr": "", "text_en": "", "offset_days": "0", "offset_unit": "business", "offset_anchor": "end",
                "assignee": "manager", "priority": "normal"}
    return {"id": step.id, "cases": ", ".join(step.cases), "kind": step.kind, "enabled": step.enabled,
            "title_fr": step.title.fr, "title_en": step.title.en, "text_fr": step.text.fr, "text_en": step.text.en,
            "offset_days": str(step.offset.days), "offset_unit": step.offset.unit,
            "offset_anchor": step.offset.anchor, "assignee": step.assignee, "priority": step.priority}


MAX_TEXT, MAX_SHORT = 4000, 200  # characters kept of a text field and of any other field, before any parsing
LONG_FIELDS = _LONG = ("title_fr", "title_en", "text_fr", "text_en")  # the texts, where words are replaced


def read_step_form(form) -> dict:
    """The submitted values, as typed (checkbox → bool), each cut to its bound first."""
    from webhooks.admin.i18n import placeholders_from_words

    values = {name: (form.get(name) or "")[:MAX_TEXT if name in _LONG else MAX_SHORT].strip()
              for name in STEP_FIELDS + ("id", "cases", "kind")}
    values.update({name: placeholders_from_words(values[name]) for name in _LONG})  # '{le consultant}' as shown
    values["enabled"] = form.get("enabled") in ("on", "true", "1")
    if hasattr(form, "getlist") and form.getlist("case"):  # the cases' checkboxes (the text field: scripts)
        values["cases"] = ", ".join(c[:MAX_SHORT] for c in form.getlist("case"))
    return values


def step_patch(values: dict) -> dict:
    """The override for an existing step (what an admin can change)."""
    days = values["offset_days"]
    return {"enabled": values["enabled"], "title": {"fr": values["title_fr"], "en": values["title_en"]},
            "text": {"fr": values["text_fr"], "en": values["text_en"]},
            "offset": {"days": int(days) if re.fullmatch(r"-?[0-9]{1,6}", days) else days,
                       "unit": values["offset_unit"], "anchor": values["offset_anchor"]},
            "assignee": values["assignee"], "priority": values["priority"]}


def new_step(values: dict) -> dict:
    """A whole step from the 'add a step' form."""
    cases = [c.strip() for c in values["cases"].split(",") if c.strip()]
    return {"id": values["id"], "cases": cases, "kind": values["kind"], **step_patch(values)}


def check_step(data: dict, lang: str = "fr") -> dict[str, str]:
    """Validate one step; {form field: sentence in `lang`} (empty when valid)."""
    try:
        Step.model_validate(data)
    except ValidationError as exc:
        return errors_by_field(exc, lang)
    return {}


_LABELS = {"offset_days": "offset", "offset_unit": "unit", "offset_anchor": "anchor", "id": "step_id",
           "enabled": "enabled_step", "_": "step"}  # form field → its label's word (others: the field's own)


def errors_by_field(exc: ValidationError, lang: str = "fr") -> dict[str, str]:
    """Map pydantic error locations (('offset', 'days')) to form fields ('offset_days'), each said in words."""
    from webhooks.admin.i18n import word
    from webhooks.admin.validation import field_errors

    def field_of(error) -> str:
        loc = [str(part) for part in error["loc"] if not isinstance(part, int)]
        if not loc:  # a cross-field rule: its message starts with the field it is about
            found = _PREFIX.match(str(error["msg"]).removeprefix("Value error, "))
            loc = found.group(1).split(".") if found else ["_"]
        field = "_".join(loc[:2])
        return field if field in STEP_FIELDS + ("id", "cases", "kind") else _nearest(field)

    labels = {f: word(w, lang) for f, w in _LABELS.items()}
    return field_errors(exc, lang, field_of=field_of, labels=labels)


def _nearest(field: str) -> str:
    for name in STEP_FIELDS + ("id", "cases", "kind"):
        if field.startswith(name):
            return name
    return field if field in ("title", "text", "offset") else "_"
