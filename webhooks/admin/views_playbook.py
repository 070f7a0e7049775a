"""The playbook page: see every step, reword, re-time, enable/disable, add a step; errors next to their field."""
from __future__ import annotations

import copy

from flask import g, request

from config.playbook import PlaybookError, default_playbook, load_playbook
from handlers.sync.jobs import playbook_for
from webhooks.admin import bp
from webhooks.admin.auth import current_admin
from webhooks.admin.forms import LONG_FIELDS, check_step, new_step as build_step, read_step_form, step_form, step_patch
from webhooks.admin.i18n import PLACEHOLDER_WORDS, placeholders_as_words, placeholders_in_words, word
from webhooks.admin.render import error_page, lang_for, page
from webhooks.admin.views_replan import confirm_or_apply


@bp.get("/playbook")
def playbook():
    """Every step of the tenant's effective playbook."""
    admin = current_admin()
    overrides = admin.tenant.playbook_overrides
    edited = set((overrides.get("steps") or {})) | {s.get("id") for s in overrides.get("add") or []}
    return page("playbook.html", steps=playbook_for(admin.tenant).steps, overridden=edited,
                flash=request.args.get("flash"))


@bp.route("/playbook/<step_id>", methods=["GET", "POST"])
def edit_step(step_id: str):
    """Edit one step; the change is validated as a whole playbook before it is saved."""
    admin = current_admin()
    current = next((s for s in playbook_for(admin.tenant).steps if s.id == step_id), None)
    if current is None:
        return error_page(404, "Étape inconnue / Unknown step", f"No step '{step_id}' in this playbook.")
    if request.method == "GET":
        return _step_page(step_id, step_form(current), {}, new=False)
    values = read_step_form(request.form)
    patch = step_patch(values)
    candidate = {**current.model_dump(mode="json"), **patch}
    errors = check_step(candidate, lang_for(admin.tenant))
    overrides = _with_step(admin.tenant.playbook_overrides, step_id, patch)
    return _save_or_show(admin, overrides, errors, step_id, values, new=False)


@bp.post("/playbook/<step_id>/reset")
def reset_step(step_id: str):
    """Drop the tenant's changes to a default step."""
    admin = current_admin()
    overrides = copy.deepcopy(admin.tenant.playbook_overrides)
    (overrides.get("steps") or {}).pop(step_id, None)
    return confirm_or_apply(admin, overrides, _title(admin, step_id), flash=word("saved", lang_for(admin.tenant)))


@bp.route("/playbook-new", methods=["GET", "POST"])
def new_step():
    """Add a step of the tenant's own."""
    admin = current_admin()
    if request.method == "GET":
        return _step_page(None, step_form(None), {}, new=True)
    values = read_step_form(request.form)
    step = build_step(values)
    errors = check_step(step, lang_for(admin.tenant))
    overrides = copy.deepcopy(admin.tenant.playbook_overrides)
    overrides["add"] = [s for s in overrides.get("add") or [] if s.get("id") != step["id"]] + [step]
    return _save_or_show(admin, overrides, errors, None, values, new=True)



def _with_step(overrides: dict, step_id: str, patch: dict) -> dict:
    """The tenant's overrides with this step's new values (added steps are replaced whole)."""
    out = copy.deepcopy(overrides)
    added = out.get("add") or []
    for i, step in enumerate(added):
        if step.get("id") == step_id:
            added[i] = {**step, **patch}
            return out
    if step_id in {s.id for s in default_playbook().steps}:
        out.setdefault("steps", {})[step_id] = patch
    return out


def _save_or_show(admin, overrides: dict, errors: dict, step_id: str | None, values: dict, *, new: bool):
    if not errors:
        try:
            load_playbook(overrides=overrides)
        except PlaybookError as exc:  # the whole playbook refused it: a step id taken, or another rule
            taken = any("duplicate step id" in p for p in exc.problems)
            errors = {"id" if taken else "_": word("err_id_taken" if taken else "err_playbook", lang_for(admin.tenant))}
    if errors:
        return _step_page(step_id, values, errors, new=new, status=400)
    target = values.get("id") if new else step_id
    return confirm_or_apply(admin, overrides, values.get("title_en" if lang_for(admin.tenant) == "en" else "title_fr")
                            or _title(admin, target), flash=word("saved", lang_for(admin.tenant)))


def _title(admin, step_id: str) -> str:
    """A step's title in the admin's language (its id only when the playbook has no such step)."""
    lang = lang_for(admin.tenant)
    step = next((s for s in playbook_for(admin.tenant).steps if s.id == step_id), None)
    return placeholders_in_words(step.title.get(lang), lang) if step else step_id


def _step_page(step_id, form: dict, errors: dict, *, new: bool, status: int = 200):
    lang = lang_for(g.admin.tenant)
    title = form.get("title_en" if lang == "en" else "title_fr") if step_id else ""
    heading = placeholders_in_words(title, lang) if title else word("new_step", lang)
    shown = {**form, **{k: placeholders_as_words(form.get(k) or "", k[-2:]) for k in LONG_FIELDS}}  # each its own
    body = page("step.html", step_id=step_id, form=shown, errors=errors, new=new, heading=heading,
                placeholders=[placeholders_as_words("{" + p + "}", lang) for p in PLACEHOLDER_WORDS],
                problem=word("errors", lang) if errors else None)
    return body, status
