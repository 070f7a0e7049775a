"""The preview page: pick a mission, see the actions it would get today with the tenant's playbook, and why."""
from __future__ import annotations

from flask import request

from handlers.sync.preview import known_missions, preview_stored
from webhooks.admin import bp
from webhooks.admin.auth import current_admin
from webhooks.admin.i18n import label
from webhooks.admin.render import lang_for, page
from webhooks.admin.views_timeline import picture_of


@bp.get("/preview")
def preview():
    """From the last snapshot (no host call): case, reason, and each action with the operation it needs."""
    admin = current_admin()
    query = (request.args.get("q") or "").strip().lower()[:80]
    missions = [{"id": s.mission_id, "label": _label(s)} for s in known_missions(admin.tenant.id)]
    missions = [m for m in missions if query in m["label"].lower()] if query else missions  # by consultant, client
    mission = request.args.get("mission") or (missions[0]["id"] if missions else None)
    result = preview_stored(admin.tenant, mission) if mission else None
    lang = lang_for(admin.tenant)
    return page("preview.html", missions=missions, mission=mission, result=result, q=query,
                picture=picture_of(admin.tenant, result, lang) if result else None,
                label=lambda prefix, code: label(prefix, code, lang))


def _label(snap) -> str:
    """A mission as people know it: consultant, client, title, end date (its id only behind the page's details)."""
    who = snap.consultant.name if snap.consultant else ""
    end = snap.end_date.strftime("%d/%m/%Y") if snap.end_date else "—"
    return " · ".join(x for x in (who, snap.client_name, snap.title) if x) + f" ({end})"
