"""The bench forecast on the dashboard (who comes back in 13 weeks, what it will cost) and its CSV export."""
from __future__ import annotations

import csv
import io
from datetime import date

from flask import Response, g, redirect, request, url_for

from config import tenants
from config.infra.redis_conn import get_redis
from config.infra import clock
from handlers.reports.bench_data import forecast_report
from handlers.reports.bench_report import BENCHMARK
from handlers.reports.forecast import LAYERS, Forecast, Return
from handlers.hosts.registry import host_of
from handlers.intake.ingest import enqueue_match
from webhooks.admin import bp
from webhooks.admin.auth import current_admin
from webhooks.admin.forecast_chart import LAYER_COLOURS, stacked_weeks
from webhooks.admin.i18n import label, say, word
from webhooks.admin.render import lang_for
from webhooks.admin.views_bench import _eur, _number, _page, _pct, csv_cells

DIGEST_CHOICES = ("0", "7", "14", "30")  # the digest's cadence in days (0: no digest)


def forecast_card(tenant, lang: str) -> dict:
    """What the dashboard's forecast card shows: figures, the stacked chart, the weeks and who comes back."""
    found = forecast_report(get_redis(), tenant, clock.today(tenant.timezone))
    names = {layer: word(f"layer_{layer}", lang) for layer in LAYERS}
    bars = [(day(w.first, lang, short=True), w.layers, w.figures.headcount * w.figures.working_days)
            for w in found.weeks]
    peak = max(found.weeks, key=lambda w: w.figures.rate)
    offered = host_of(tenant).matching
    return {"report": found, "peak": peak, "positionings": bool(offered and offered.positionings),
            "digest_choices": [(c, word(f"digest_{c}", lang)) for c in DIGEST_CHOICES], "colours": LAYER_COLOURS, "names": names,
            "chart": stacked_weeks(bars, names=names, title=word("forecast_chart", lang), band=BENCHMARK),
            "unknown": say("forecast_unknown", lang, n=_number(found.unknown_cost_days, lang))
            if found.unknown_cost_days else None,
            "day": lambda d: day(d, lang), "eur": lambda v: _eur(v, lang), "pct": lambda v: _pct(v, lang),
            "num": lambda v: _number(v, lang), "who": lambda r: r.name or word("unnamed", lang)}


@bp.context_processor
def _forecast_card() -> dict:
    """Templates may call `forecast_card()` (the bench dashboard does); nothing is read until one does."""
    return {"forecast_card": lambda: forecast_card(g.admin.tenant, lang_for(g.admin.tenant))}


@bp.post("/bench/matching")
def matching_settings():
    """Turn matching on or off, its number per consultant, positionings; a run is queued when it is on."""
    admin = current_admin()
    lang = lang_for(admin.tenant)
    text = (request.form.get("per_consultant") or "").strip()
    if not text.isdigit() or not 1 <= int(text) <= 20:
        return _page(admin, errors={"per_consultant": word("bad_per_consultant", lang)}, values=None), 400
    every = request.form.get("digest_every_days", "0")
    chosen = tenants.MatchSettings(enabled=request.form.get("enabled") == "1", per_consultant=int(text),
                                   positionings=request.form.get("positionings") == "1",
                                   digest_every_days=int(every) if every in DIGEST_CHOICES else 0)
    tenants.save(admin.tenant.model_copy(update={"matching": chosen}))
    if chosen.runs:
        enqueue_match(get_redis(), admin.tenant.id, "settings", trigger={"kind": "admin", "host": admin.tenant.host})
    return redirect(url_for(".bench", a=admin.token, lang=lang, flash=word("saved", lang)) + "#matching")


@bp.get("/bench/forecast.csv")
def forecast_csv():
    """The forecast as CSV: `part=weeks` the week figures, otherwise who comes back."""
    admin = current_admin()
    lang = lang_for(admin.tenant)
    found = forecast_report(get_redis(), admin.tenant, clock.today(admin.tenant.timezone))
    part = "weeks" if request.args.get("part") == "weeks" else "returns"
    rows = _week_rows(found, lang) if part == "weeks" else _return_rows(found.returns, lang)
    out = io.StringIO()
    csv.writer(out).writerows([csv_cells(row) for row in rows])
    name = f"forecast-{part}-{found.today.isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _week_rows(found: Forecast, lang: str) -> list[list]:
    head = [word(k, lang) for k in ("week_of", "headcount", "projected_days")]
    head += [word(f"layer_{layer}", lang) for layer in LAYERS] + [word(k, lang) for k in ("rate", "benchmark", "projected_cost")]
    rows = [head]
    for w in found.weeks:
        rows.append([w.first.isoformat(), w.figures.headcount, f"{w.figures.days:g}"]
                    + [f"{w.layers[layer]:g}" for layer in LAYERS]
                    + [_pct(w.figures.rate, lang), word(f"bench_{w.benchmark}", lang), f"{w.figures.cost:.2f}"])
    return rows


def _return_rows(returns: list[Return], lang: str) -> list[list]:
    head = [word(k, lang) for k in ("consultant", "mission", "mission_end", "case", "end_status", "first_bench_day",
                                    "next_mission", "projected_days", "daily_cost", "projected_cost")]
    rows = [head]
    for r in returns:
        rows.append([r.name or word("unnamed", lang), r.mission_title, r.end.isoformat(), label("case", r.case, lang),
                     word("to_confirm" if r.to_confirm else "settled", lang), r.first_day.isoformat(),
                     r.next_start.isoformat() if r.next_start else word("none_known", lang), r.days,
                     "" if r.daily_cost is None else f"{r.daily_cost:.2f}", "" if r.cost is None else f"{r.cost:.2f}"])
    return rows


def day(value: date, lang: str, *, short: bool = False) -> str:
    """'20/11/2026' in French, '20 Nov 2026' in English (short: '20/11', '20 Nov')."""
    if lang == "en":
        return value.strftime("%d %b") if short else value.strftime("%d %b %Y")
    return value.strftime("%d/%m") if short else value.strftime("%d/%m/%Y")
