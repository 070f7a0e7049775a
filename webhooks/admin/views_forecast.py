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
from webhooks.admin.i18n import WORDS, label, say, word
from webhooks.admin.render import lang_for
from webhooks.admin.views_bench import _eur, _number, _page, _pct, csv_cells

DIGEST_CHOICES = ("0", "7", "14", "30")  # the digest's cadence in days (0: no digest)

WORDS.update({  # issue #29: the forecast (additive: new keys only)
    "forecast": ("Prévision : les 13 prochaines semaines", "Forecast: the next 13 weeks"),
    "forecast_chart": ("Jours d'intercontrat prévus par semaine", "Projected bench days per week"),
    "layer_on_bench": ("déjà en intercontrat", "already on the bench"),
    "layer_coming_back": ("de retour (fin confirmée)", "coming back (end settled)"),
    "layer_to_confirm": ("de retour (à confirmer)", "coming back (to confirm)"),
    "coming_back": ("Reviennent en intercontrat", "Coming back to the bench"),
    "projected_days": ("Jours d'intercontrat prévus", "Projected bench days"),
    "projected_cost": ("Coût prévu", "Projected cost"),
    "peak_rate": ("Taux le plus haut d'une semaine", "Highest weekly rate"),
    "week_of": ("Semaine du", "Week of"), "headcount": ("Effectif", "Headcount"),
    "mission_end": ("Fin de mission", "Mission ends"), "first_bench_day": ("Premier jour", "First bench day"),
    "next_mission": ("Mission suivante", "Next mission"), "none_known": ("aucune connue", "none known"),
    "to_confirm": ("à confirmer", "to confirm"), "settled": ("confirmée", "settled"),
    "end_status": ("Fin", "End"), "nobody_back": ("Personne ne revient en intercontrat dans les 13 semaines.",
                                                  "Nobody comes back to the bench in the next 13 weeks."),
    "csv_weeks": ("Semaines en CSV", "Weeks as CSV"), "csv_returns": ("Retours en CSV", "Returns as CSV"),
    "unnamed": ("(sans nom)", "(no name)"),
    "matching": ("Rapprochement avec les opportunités", "Matching with opportunities"),
    "matching_help": ("Intermission propose aux ingénieurs d'affaires, dans une tâche par opportunité ouverte, les "
                      "consultants en intercontrat ou qui y reviennent dans les 13 semaines et dont les compétences "
                      "correspondent, avec la raison (compétences, date de disponibilité, lieu).",
                      "Intermission suggests to business engineers, in one task per open opportunity, the consultants "
                      "on the bench or coming back within 13 weeks whose skills fit, with the reason (skills, free "
                      "date, place)."),
    "matching_enabled": ("Proposer des consultants pour les opportunités ouvertes", "Suggest consultants for open opportunities"),
    "per_consultant": ("Opportunités au plus par consultant", "At most this many opportunities per consultant"),
    "digest_every": ("Récapitulatif des ingénieurs d'affaires (« vos consultants disponibles dans les 30 / 60 / 90 "
                     "jours »)", "Business engineers' digest (\"your consultants available within 30 / 60 / 90 days\")"),
    "digest_0": ("aucun", "none"), "digest_7": ("chaque semaine", "every week"),
    "digest_14": ("toutes les deux semaines", "every two weeks"), "digest_30": ("tous les 30 jours", "every 30 days"),
    "bad_per_consultant": ("Saisissez un nombre entier de 1 à 20.", "Enter a whole number from 1 to 20."),
    "effective_use": ("Usage effectif de l'intercontrat", "Effective use of the bench"),
    "effective_use_help": ("part des jours d'intercontrat du trimestre passés sur une activité (formation, projet "
                           "interne, recherche de mission, mécénat) : couverts par une inactivité de l'outil dont le "
                           "type y correspond, sinon dont une étape a été cochée faite",
                           "share of the quarter's bench days spent on an activity (training, internal project, "
                           "mission search, skills volunteering): covered by an inactivity in the host whose type "
                           "maps to it, else with a step ticked done"),
    "host_days": ("Jours couverts par une inactivité de l'outil", "Days covered by an inactivity in the host"),
    "case_matching": ("Rapprochement d'opportunités", "Opportunity matching"),
    "forecast_unknown": ("{n} jours prévus sans coût connu : renseignez un coût journalier par défaut ci-dessous.",
                         "{n} projected days without a known cost: set a default daily cost below."),
})


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
