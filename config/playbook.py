"""Playbook models (pydantic v2) and the TOML loader with tenant overrides.

A playbook is data: a list of steps, each tied to the end-of-mission cases it follows, timed by an
offset from an anchor date (mission end, early-end notice, first bench day), with French and English
titles/texts. `load_playbook` reads the TOML, merges a tenant's overrides and validates everything,
raising `PlaybookError` with one readable line per problem (file, step id, field path, message).
"""
from __future__ import annotations

import copy
import re
import string
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

Case = Literal["natural", "client", "consultant"]
Kind = Literal["task", "reminder", "survey", "bench"]
Role = Literal["manager", "consultant", "business_engineer", "hr", "client_contact"]

CASES: tuple[str, ...] = ("natural", "client", "consultant")
PLACEHOLDERS: frozenset[str] = frozenset({"consultant", "client", "end_date", "mission"})
DEFAULT_PATH = Path(__file__).parent / "playbooks" / "default.toml"
OVERRIDES_SOURCE = "overrides"

_NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_MODEL = ConfigDict(extra="forbid", frozen=True)


class PlaybookError(Exception):
    """A playbook (or its overrides) is unreadable or invalid; one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = list(dict.fromkeys(problems))
        super().__init__("\n".join(self.problems))


def _rule(message: str) -> PydanticCustomError:
    """A validation error whose message is shown as-is (no 'Value error, ' prefix)."""
    return PydanticCustomError("playbook_rule", message)


def _check_placeholders(value: str) -> str:
    """Reject malformed braces and placeholders other than PLACEHOLDERS."""
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise _rule(f"malformed placeholder ({exc}); write literal braces as '{{{{' and '}}}}'") from None
    allowed = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            raise _rule(f"unknown placeholder {{{name}}}; allowed: {allowed}")
        if spec or conversion:
            raise _rule(f"placeholder {{{name}}} takes no format spec or conversion")
    return value


_ELIDABLE = re.compile(r"\b([Dd]e|[Qq]ue) \{(\w+)\}")
_VOWEL = re.compile(r"^[AEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜaeiouyàâäéèêëîïôöùûü]")


def elide(template: str, values: Mapping[str, str]) -> str:
    """French elision before a placeholder whose value starts with a vowel: "de {client}" → "d'Acme"."""
    def swap(found: re.Match) -> str:
        word, name = found.groups()
        value = values.get(name) or ""
        return f"{word[:-1]}'{{{name}}}" if _VOWEL.match(value) else found.group(0)

    return _ELIDABLE.sub(swap, template)


class _KeepMissing(dict):
    """format_map helper: placeholders without a value stay as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class LocalizedText(BaseModel):
    """A text in French and English."""

    model_config = _MODEL
    fr: _NonEmpty
    en: _NonEmpty

    @field_validator("fr", "en")
    @classmethod
    def _placeholders(cls, v: str) -> str:
        """Only known placeholders, well-formed braces."""
        return _check_placeholders(v)

    def get(self, lang: str) -> str:
        """The text in `lang` ('fr', 'en', 'en-GB', …), French when the language is unknown."""
        base = (lang or "fr").lower().split("-")[0].split("_")[0]
        return self.en if base == "en" else self.fr

    def render(self, lang: str, values: Mapping[str, Any] | None = None) -> str:
        """The text in `lang` with placeholders filled from `values` (missing ones left as is), French elided."""
        filled = {k: str(v) for k, v in (values or {}).items()}
        text = self.get(lang)
        if text is self.fr:
            text = elide(text, filled)
        return text.format_map(_KeepMissing(filled))


class Title(LocalizedText):
    """A short localized title (it becomes a task subject)."""

    fr: Annotated[_NonEmpty, Field(max_length=200)]
    en: Annotated[_NonEmpty, Field(max_length=200)]


class Text(LocalizedText):
    """A localized body text."""

    fr: Annotated[_NonEmpty, Field(max_length=4000)]
    en: Annotated[_NonEmpty, Field(max_length=4000)]


class Offset(BaseModel):
    """When a step is due: `days` (negative = before) in `unit` days from `anchor`."""

    model_config = _MODEL
    days: Annotated[StrictInt, Field(ge=-366, le=366)]
    unit: Literal["business", "calendar"] = "business"
    anchor: Literal["end", "notice", "bench"] = "end"


class Recurrence(BaseModel):
    """Repeat a bench step every `every_days` calendar days until restaffed (or `max_occurrences`)."""

    model_config = _MODEL
    every_days: Annotated[StrictInt, Field(ge=1, le=366)]
    max_occurrences: Annotated[StrictInt, Field(ge=1)] | None = None


class Step(BaseModel):
    """One playbook step."""

    model_config = _MODEL
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.-]+$", max_length=100)]
    cases: Annotated[list[Case], Field(min_length=1)]
    kind: Kind
    assignee: Role
    offset: Offset
    recurrence: Recurrence | None = None
    priority: Literal["normal", "high"] = "normal"
    enabled: StrictBool = True
    staffing: StrictBool = False  # looks for the consultant's next mission: left out when one starts right after
    handover: StrictBool = False  # hands the mission over: names the replacement once another consultant's is known
    # "end": pointless once the end date has passed (an announcement of an availability that has begun): not planned
    # for an end learnt after it passed; once planned, kept like any step (issue #27)
    pointless_after: Literal["end"] | None = None
    title: Title
    text: Text

    @field_validator("cases")
    @classmethod
    def _unique_cases(cls, v: list[str]) -> list[str]:
        """A case is listed once."""
        if len(set(v)) != len(v):
            raise _rule("each case may be listed only once")
        return v

    @model_validator(mode="after")
    def _cross_field_rules(self) -> Step:
        """kind 'bench' ⇔ anchor 'bench'; recurrence only on bench steps; 'notice' only for early ends."""
        is_bench, anchor = self.kind == "bench", self.offset.anchor
        if is_bench and anchor != "bench":
            raise _rule(f"offset.anchor: a bench step must use anchor 'bench' (got '{anchor}')")
        if anchor == "bench" and not is_bench:
            raise _rule(f"kind: anchor 'bench' is only for kind 'bench' (got '{self.kind}')")
        if self.recurrence is not None and not is_bench:
            raise _rule("recurrence: only bench steps may recur")
        if anchor == "notice" and not set(self.cases) <= {"client", "consultant"}:
            raise _rule("offset.anchor: 'notice' needs cases within ['client', 'consultant'] (no notice in a natural end)")
        return self

    @property
    def is_bench(self) -> bool:
        """True for a bench (between-missions) step."""
        return self.kind == "bench"


class Playbook(BaseModel):
    """An ordered list of steps with unique ids."""

    model_config = _MODEL
    steps: list[Step]

    @model_validator(mode="after")
    def _unique_ids(self) -> Playbook:
        """Step ids are unique."""
        seen: dict[str, int] = {}
        for i, step in enumerate(self.steps):
            if step.id in seen:
                raise _rule(f"step '{step.id}': id: duplicate step id (steps[{seen[step.id]}] and steps[{i}])")
            seen[step.id] = i
        return self

    def steps_for(self, case: str) -> list[Step]:
        """Enabled end-of-mission (non-bench) steps of `case`, in playbook order."""
        return [s for s in self.steps if s.enabled and not s.is_bench and case in s.cases]

    def bench_steps(self, case: str) -> list[Step]:
        """Enabled bench steps that follow an end of mission of `case`."""
        return [s for s in self.steps if s.enabled and s.is_bench and case in s.cases]

    def step(self, step_id: str) -> Step:
        """The step with this id (KeyError if none)."""
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(f"no playbook step {step_id!r}")

    def ids(self) -> list[str]:
        """All step ids, in order."""
        return [s.id for s in self.steps]


# ---------------------------------------------------------------- error formatting


def _dotted(loc: tuple) -> str:
    """('offset', 'days') -> 'offset.days'; ('cases', 1) -> 'cases[1]'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _label(raw: Any, fallback: str) -> str:
    """"step '<id>'" when the raw step has a usable id, else the fallback position."""
    step_id = raw.get("id") if isinstance(raw, dict) else None
    return f"step '{step_id}'" if isinstance(step_id, str) and step_id else fallback


def _format_errors(exc: ValidationError, raw_steps: Any, origins: list[tuple[str, str]], source: str) -> list[str]:
    """Turn pydantic errors into '<source>: step '<id>': <field>: <message>' lines."""
    lines = []
    for err in exc.errors():
        loc, msg = tuple(err["loc"]), err["msg"]
        if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int) and isinstance(raw_steps, list):
            i = loc[1]
            where, fallback = origins[i] if i < len(origins) else (source, f"steps[{i}]")
            parts = [where, _label(raw_steps[i], fallback), _dotted(loc[2:]), msg]
        else:
            parts = [source, _dotted(loc), msg]
        lines.append(": ".join(p for p in parts if p))
    return lines


def _toml_problem(exc: tomllib.TOMLDecodeError, source: str) -> str:
    """'<source>: line L, column C: <message>' for a TOML syntax error."""
    text = str(exc)
    m = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", text)
    if m:
        return f"{source}: line {m.group(1)}, column {m.group(2)}: {text[: m.start()]}"
    return f"{source}: {text}"


# ---------------------------------------------------------------- overrides


def _deep_merge(base: dict, patch: Mapping) -> dict:
    """`base` updated by `patch`: tables merge recursively, other values replace, None removes."""
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _override_shape_problems(overrides: Any, known: set[str], source: str) -> list[str]:
    """Structural problems of an overrides dict (unknown keys, unknown step ids, wrong types)."""
    if not isinstance(overrides, Mapping):
        return [f"{OVERRIDES_SOURCE}: must be a table with 'steps' and/or 'add'"]
    problems = [f"{OVERRIDES_SOURCE}: {k}: unknown key (expected 'steps' or 'add')" for k in overrides if k not in ("steps", "add")]
    patches, added = overrides.get("steps", {}), overrides.get("add", [])
    if not isinstance(patches, Mapping):
        problems.append(f"{OVERRIDES_SOURCE}: steps: must be a table of step id -> changes")
        patches = {}
    if not isinstance(added, list):
        problems.append(f"{OVERRIDES_SOURCE}: add: must be a list of steps")
    for step_id, patch in patches.items():
        if step_id not in known:
            problems.append(f"{OVERRIDES_SOURCE}: step '{step_id}': unknown step id (not in {source})")
        elif not isinstance(patch, Mapping):
            problems.append(f"{OVERRIDES_SOURCE}: step '{step_id}': the override must be a table of fields")
        elif "id" in patch and patch["id"] != step_id:
            problems.append(f"{OVERRIDES_SOURCE}: step '{step_id}': id: an override cannot rename a step")
    return problems


def _apply_overrides(raw_steps: list, overrides: Mapping, source: str) -> tuple[list, list[tuple[str, str]]]:
    """Merged raw steps and, per step, (source, fallback label) for error messages."""
    patches, added = overrides.get("steps", {}), overrides.get("add", [])
    merged, origins = [], []
    for i, raw in enumerate(raw_steps):
        patch = patches.get(raw.get("id")) if isinstance(raw, dict) else None
        merged.append(_deep_merge(raw, patch) if patch else raw)
        origins.append((OVERRIDES_SOURCE if patch else source, f"steps[{i}]"))
    for j, raw in enumerate(added):
        merged.append(raw)
        origins.append((OVERRIDES_SOURCE, f"add[{j}]"))
    return merged, origins


# ---------------------------------------------------------------- loading


def _validate(data: Any, source: str, origins: list[tuple[str, str]] | None = None) -> Playbook:
    """Validate parsed data into a Playbook, or raise PlaybookError naming `source`."""
    raw_steps = data.get("steps") if isinstance(data, dict) else None
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        raise PlaybookError(_format_errors(exc, raw_steps, origins or [], source)) from None


def _with_overrides(data: dict, overrides: Mapping | None, source: str) -> Playbook:
    """Validate `data`, then (if any) merge `overrides` and validate the result."""
    base = _validate(data, source)
    if not overrides:
        return base
    problems = _override_shape_problems(overrides, set(base.ids()), source)
    if problems:
        raise PlaybookError(problems)
    merged, origins = _apply_overrides(data["steps"], overrides, source)
    return _validate({**data, "steps": merged}, OVERRIDES_SOURCE, origins)


def load_playbook_text(text: str, source: str = "<playbook>", overrides: Mapping | None = None) -> Playbook:
    """Parse and validate playbook TOML text; errors name `source`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlaybookError([_toml_problem(exc, source)]) from None
    return _with_overrides(data, overrides, source)


def _display(path: Path) -> str:
    """How a playbook path is named in errors (the packaged default as 'config/playbooks/default.toml')."""
    if path.resolve() == DEFAULT_PATH.resolve():
        return DEFAULT_PATH.relative_to(DEFAULT_PATH.parents[2]).as_posix()
    return str(path)


def load_playbook(path: Path | str | None = None, overrides: Mapping | None = None) -> Playbook:
    """Read a playbook TOML file (default: the packaged one), apply tenant overrides, validate."""
    path = Path(path) if path is not None else DEFAULT_PATH
    source = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaybookError([f"{source}: cannot read the playbook: {exc}"]) from None
    return load_playbook_text(text, source, overrides)


@lru_cache(maxsize=1)
def default_playbook() -> Playbook:
    """The packaged default playbook (parsed once)."""
    return load_playbook()


__all__ = [
    "CASES", "PLACEHOLDERS", "Case", "Kind", "LocalizedText", "Offset", "Playbook", "PlaybookError",
    "Recurrence", "Role", "Step", "Text", "Title", "default_playbook", "load_playbook", "load_playbook_text",
]
