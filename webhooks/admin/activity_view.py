"""The activity log as a run history (issue #27): one row per change of a mission as we saw it (a webhook, the day's
schedule, a backfill, a playbook applied…), with the actions it wrote or kept listed under it; missions and people
by name, times in the tenant's time zone, dates in the page's language. Raw values only behind "details"."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo

from webhooks.admin.i18n import known as is_word, label, word

OPS = ("created", "rescheduled", "cancelled", "kept", "dismissed", "held", "recovered")  # the records' operations
_SAME_CHANGE_SECONDS = 300  # records of one mission with one provenance this close together: one change


def changes(records: list[dict]) -> list[list[dict]]:
    """The records (newest first) grouped into changes: a mission's consecutive records sharing their trigger, case,
    reason and end-date change, written within minutes of each other (one reconciliation, or its retry)."""
    out: list[list[dict]] = []
    for record in records:
        last = out[-1] if out else None
        if last and _same(last[-1], record):
            last.append(record)
        else:
            out.append([record])
    return out


def _same(newer: dict, older: dict) -> bool:
    shared = ("mission", "trigger", "case", "reason", "unsure", "change")
    return all(newer.get(k) == older.get(k) for k in shared) and \
        abs(float(newer.get("at") or 0) - float(older.get("at") or 0)) <= _SAME_CHANGE_SECONDS


def change_row(group: list[dict], tenant, lang: str, *, known: dict[str, "Known"]) -> dict:
    """One change as the page shows it: when, the mission's name, what happened, and its actions (`known`: each
    mission's name and placeholder values, `mission_names`)."""
    head = group[0]
    trigger = head.get("trigger") or {}
    kind = str(trigger.get("kind") or "other")
    mission = str(head.get("mission") or "")
    name, values = known.get(mission, Known("", {}))
    titles = step_titles(tenant, lang, values)
    return {"when": _local(head.get("at", 0), tenant, lang), "mission": mission,
            "mission_name": name or (word("no_mission", lang) if mission else ""),
            "trigger": label("trigger", kind if is_word(f"trigger_{kind}") else "other", lang),
            "case": head.get("case"), "reason": head.get("reason"), "change": change_words(head.get("change"), lang),
            "raw_trigger": json.dumps(trigger)[:120],
            "actions": [_action(r, lang, titles) for r in sorted(group, key=lambda r: (str(r.get("due") or ""),
                                                                               str(r.get("title") or "")))]}


def _action(record: dict, lang: str, titles: dict[str, str]) -> dict:
    op = str(record.get("op") or "")
    due, before = record.get("due"), record.get("previous_due")
    step = str(record.get("step") or record.get("key") or "").split("#")[0]
    return {"op": op, "done": word(f"done_{op}", lang) if is_word(f"done_{op}") else op,
            "title": record.get("title") or titles.get(step) or word("step", lang), "owner": record.get("owner") or "",
            "due": day_words(str(due), lang) if due else "",
            "moved_from": day_words(str(before), lang) if before and due and before != due else "",
            "late": bool(record.get("late")), "why_code": record.get("why_code"), "key": record.get("key") or ""}


def step_titles(tenant, lang: str, values: dict) -> dict[str, str]:
    """The tenant's playbook step titles for one mission (a cancelled action's record keeps no title of its own):
    its values where known, the placeholders in words otherwise."""
    from handlers.sync.pipeline import playbook_for
    from webhooks.admin.i18n import placeholders_in_words

    return {s.id: placeholders_in_words(s.title.render(lang, {k: v for k, v in values.items() if v}), lang)
            for s in playbook_for(tenant).steps}


def _local(at: float, tenant, lang: str) -> str:
    when = datetime.fromtimestamp(float(at or 0), tz=timezone.utc).astimezone(ZoneInfo(tenant.timezone))
    return when.strftime("%d/%m/%Y %H:%M" if lang == "fr" else "%Y-%m-%d %H:%M")


def change_words(change: str | None, lang: str) -> str:
    """'None → 2026-12-04' → 'pas de date de fin → 04/12/2026'."""
    parts = [p.strip() for p in str(change or "").split("→")]
    if not change or len(set(parts)) == 1:  # no end date change: nothing to say
        return ""
    return " → ".join(day_words(p, lang) for p in parts)


def day_words(text: str, lang: str) -> str:
    """A stored day ('2026-12-04', 'None') in the page's language."""
    if text in ("None", "", "null"):
        return word("no_end_date", lang)
    try:
        day = date.fromisoformat(text[:10])
    except ValueError:
        return text
    return day.strftime("%d/%m/%Y") if lang == "fr" else day.isoformat()


class Known(NamedTuple):
    """A mission as the page names it, and the values its steps' titles name."""

    name: str
    values: dict


def mission_names(conn, tenant_id: str, missions: set[str]) -> dict[str, Known]:
    """Each mission as people read it, from its last snapshot: its title and consultant (never its id), and the
    values its steps' titles name (consultant, client, mission)."""
    from handlers.state.store import SnapshotStore

    store, out = SnapshotStore(conn, tenant_id), {}
    for mission in missions:
        snap = store.get(mission) if mission else None
        who = snap.consultant.name if snap and snap.consultant else ""
        values = {"consultant": who, "client": snap.client_name, "mission": snap.title} if snap else {}
        out[mission] = Known(" · ".join(x for x in ((snap.title if snap else ""), who) if x), values)
    return out
