"""The mission timeline: its steps on a date axis around the end date, with today, late and done states, owners
and a link to each action (Boond) or Task (Salesforce) in the host; the preview draws the same picture."""
from __future__ import annotations

from datetime import date

from flask import request

from config.infra.redis_conn import get_redis
from handlers.state.ledger import SETTLED, Ledger
from handlers.sync.preview import known_missions, preview_stored
from webhooks.admin import bp
from webhooks.admin.auth import current_admin
from webhooks.admin.charts import timeline as timeline_svg
from webhooks.admin.host_pages import pages_for
from webhooks.admin.i18n import label, word
from webhooks.admin.render import lang_for, page


@bp.get("/timeline")
def timeline():
    """One mission's steps around its end date (from the last snapshot and the ledger: no host call)."""
    admin = current_admin()
    missions = [{"id": s.mission_id, "label": f"{s.title or s.mission_id} ({s.end_date or '—'})"}
                for s in known_missions(admin.tenant.id)]
    mission = request.args.get("mission") or (missions[0]["id"] if missions else None)
    result = preview_stored(admin.tenant, mission) if mission else None
    picture = picture_of(admin.tenant, result, lang_for(admin.tenant)) if result else None
    return page("timeline.html", missions=missions, mission=mission, result=result, picture=picture,
                case_label=label("case", result["case"], lang_for(admin.tenant)) if result else "")


def picture_of(tenant, result: dict, lang: str) -> dict:
    """The rows and the SVG for one dry run: each step's due day, state, owner and host link."""
    ledger = Ledger(get_redis(), tenant.id, result["mission"]).entries()
    today: date = result["today"]
    items, seen = [], set()
    for row in result["actions"]:
        entry = ledger.get(row["key"])
        seen.add(row["key"])
        # what the host holds when nothing is to be written; the plan's date when it would be (re)written
        written = entry is not None and row["op"] in ("unchanged", "kept")
        due = (entry.due if written else row["due"]) or (entry.due if entry else None)
        items.append(_item(tenant, lang, row["key"], row.get("title") or row["step_id"], due,
                           _state(row, entry, today, due),
                           row.get("assignee_role"), row.get("assignee"), entry.host_id if entry else None, row["op"]))
    for key, entry in ledger.items():  # what people settled that the plan no longer holds (a done bench step…)
        if key not in seen and entry.status in SETTLED:
            items.append(_item(tenant, lang, key, _title(tenant, entry.step_id, lang, result), entry.due, entry.status, "",
                               None, entry.host_id, "kept"))
    items.sort(key=lambda i: (i["due"] or date.max, i["key"]))
    words = {k: word(k, lang) for k in ("timeline", "end", "today")}
    end = result.get("end_date") or today
    svg = timeline_svg(items, end=end, today=today, words=words) if items else None
    return {"items": items, "svg": svg}


def _title(tenant, step_id: str, lang: str, result: dict) -> str:
    """The step's title in the playbook (the ledger keeps no text), or its id when the step is gone."""
    from handlers.sync.pipeline import playbook_for
    from handlers.state.store import SnapshotStore

    step = next((s for s in playbook_for(tenant).steps if s.id == step_id), None)
    if step is None:
        return step_id
    snap = SnapshotStore(get_redis(), tenant.id).get(result["mission"])
    values = {"consultant": snap.consultant.name if snap and snap.consultant else "",
              "client": snap.client_name if snap else "", "mission": (snap.title if snap else "") or result["mission"]}
    return step.title.render(lang, values)


def _state(row: dict, entry, today: date, due: date | None) -> str:
    if row["op"] == "cancel":
        return "cancel"
    if entry is not None and entry.status in SETTLED:
        return entry.status
    if row.get("late") or (due and due < today):
        return "late"
    return "planned"


def _item(tenant, lang: str, key: str, title: str, due, state: str, role: str | None, name: str | None,
          host_id: str | None, op: str) -> dict:
    owner = " ".join(x for x in (label("role", role, lang) if role else "", f"({name})" if name else "") if x)
    return {"key": key, "label": title, "due": due, "state": state, "state_label": label("state", state, lang)
            if state != "cancel" else label("op", "cancel", lang), "owner": owner, "op": label("op", op, lang),
            "link": host_link(tenant, host_id)}


def host_link(tenant, host_id: str | None) -> str | None:
    """Where a person opens the action in the host (Boond's action page, Salesforce's Lightning record page)."""
    return pages_for(tenant).record_url(tenant, host_id) if host_id else None
