"""The bench dashboard: who is on the bench, since when, what it costs, and what the bench time went to."""
from __future__ import annotations

import csv
import io

from flask import Response, redirect, request, url_for

from config import tenants
from config.infra.redis_conn import get_redis
from config.infra import clock
from handlers.reports.bench_data import bench_report
from handlers.reports.bench_report import BENCHMARK, MECENAT_RATE, LOADED_COST_FACTOR, BenchPeriod, BenchReport
from webhooks.admin import bp
from webhooks.admin.auth import current_admin
from webhooks.admin.charts import month_bars, share_bar
from webhooks.admin.i18n import label, say, word
from webhooks.admin.render import lang_for, page

PAGE_SIZE = 25
AMOUNTS = ("default_daily_cost", "daily_margin", "gross_daily_salary")
MONTHS = {"fr": "janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.".split(),
          "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()}


@bp.get("/bench")
def bench():
    """The dashboard: figures, charts, the filtered and paged table, the money settings."""
    admin = current_admin()
    return _page(admin, errors={}, values=None)


@bp.post("/bench/settings")
def bench_settings():
    """Save the default daily cost, the daily margin and the gross daily salary (each optional)."""
    admin = current_admin()
    lang = lang_for(admin.tenant)
    values = {k: (request.form.get(k) or "").strip().replace(",", ".").replace("€", "").strip() for k in AMOUNTS}
    parsed, errors = {}, {}
    for name, text in values.items():
        try:
            parsed[name] = float(text) if text else None
            tenants.BenchSettings(**{name: parsed[name]})
        except ValueError:
            errors[name] = word("bad_amount", lang)
    if errors:
        return _page(admin, errors=errors, values=values), 400
    tenants.save(admin.tenant.model_copy(update={"bench": tenants.BenchSettings(**parsed)}))
    return redirect(url_for(".bench", a=admin.token, lang=lang, flash=word("saved", lang)))


@bp.get("/bench.csv")
def bench_csv():
    """The same table (same filter), every page, as CSV."""
    admin = current_admin()
    lang = lang_for(admin.tenant)
    found = bench_report(get_redis(), admin.tenant, clock.today(admin.tenant.timezone))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([word(k, lang) for k in ("consultant", "mission", "since", "until")]
                    + [f"{word('bench_days', lang)} ({word(k, lang)})" for k in ("this_month", "this_quarter")]
                    + [word("daily_cost", lang), f"{word('cost', lang)} ({word('this_quarter', lang)})", word("shares", lang)]
                    + [word("mission_host_id", lang)])  # the title for people; the host's id last, said what it is
    for p in _rows(found, request.args):
        writer.writerow(csv_cells([p.name or p.consultant_id, p.mission_title or p.mission_id, p.start.isoformat(),
                         p.until.isoformat() if p.until else "", p.days.get("month", 0), p.days.get("quarter", 0),
                         "" if p.daily_cost is None else f"{p.daily_cost:.2f}",
                         "" if p.cost("quarter") is None else f"{p.cost('quarter'):.2f}",
                         " + ".join(label("activity", a, lang) for a in sorted(p.activities)), p.mission_id]))
    name = f"bench-{admin.tenant.id}-{found.today.isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cells(values: list) -> list:
    """Text cells a spreadsheet would run as formulas (`=`, `+`, `-`, `@`, tab, CR first) kept as text with a
    leading apostrophe (OWASP's advice); numbers as they are. Names come from the host, typed by anyone."""
    return [f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v for v in values]


def _page(admin, *, errors: dict, values: dict | None):
    lang = lang_for(admin.tenant)
    found = bench_report(get_redis(), admin.tenant, clock.today(admin.tenant.timezone))
    rows = _rows(found, request.args)
    number = max(1, int(request.args.get("p", "1")) if request.args.get("p", "1").isdigit() else 1)
    pages = max(1, (len(rows) + PAGE_SIZE - 1) // PAGE_SIZE)
    number = min(number, pages)
    settings = admin.tenant.bench
    return page("bench.html", report=found, rows=rows[(number - 1) * PAGE_SIZE:number * PAGE_SIZE],
                total=len(rows), number=number, pages=pages, q=request.args.get("q", ""),
                now=request.args.get("now") == "1", flash=request.args.get("flash"),
                charts=_charts(found, lang), money=_money(found, lang), errors=errors,
                values=values or {k: "" if getattr(settings, k) is None else f"{getattr(settings, k):g}"
                                  for k in AMOUNTS},
                label=lambda prefix, code: label(prefix, code, lang), eur=lambda v: _eur(v, lang),
                pct=lambda v: _pct(v, lang), benchmark=BENCHMARK)


def _rows(found: BenchReport, args) -> list[BenchPeriod]:
    """The quarter's bench periods (and today's), on the bench first; filtered by name or mission, or by today."""
    query = (args.get("q") or "").strip().lower()
    rows = [p for p in found.periods if p.days.get("quarter") or p.on_bench(found.today)]
    if args.get("now") == "1":
        rows = [p for p in rows if p.on_bench(found.today)]
    if query:
        rows = [p for p in rows if query in f"{p.name} {p.consultant_id} {p.mission_id} {p.mission_title}".lower()]
    return sorted(rows, key=lambda p: (not p.on_bench(found.today), p.start, p.name))


def _charts(found: BenchReport, lang: str) -> dict:
    months = [(f"{MONTHS[lang][m.first.month - 1]}", m.days, m.headcount * m.working_days) for m in found.monthly]
    shares = [(code, label("activity", code, lang), days)
              for code, days in sorted(found.quarter.shares.items(), key=lambda kv: kv[0] == "unrecorded")]
    return {"months": month_bars(months, title=word("months_chart", lang), band=BENCHMARK),
            "shares": share_bar(shares, title=word("shares", lang)) if shares else None, "share_rows": shares}


def _money(found: BenchReport, lang: str) -> dict:
    margin, source = found.margin_per_day()
    n = found.margin_equivalent()
    return {"margin_line": say("margin_of", lang, n=_number(n, lang)) if n is not None else None,
            "margin_source": say(f"margin_source_{source}", lang, m=_eur(margin, lang)) if margin else None,
            "saving_formula": f"{MECENAT_RATE:.0%} × {_eur(found.quarter.mecenat_gross_daily, lang)} × "
                              f"{_number(found.quarter.mecenat_days, lang)} = {_eur(found.quarter.mecenat_saving, lang)}",
            "loaded_factor": _number(LOADED_COST_FACTOR, lang),
            "unknown": say("cost_unknown", lang, n=_number(found.quarter.unknown_cost_days, lang))
            if found.quarter.unknown_cost_days else None}


def _number(value: float | None, lang: str) -> str:
    if value is None:
        return "—"
    text = f"{value:,.1f}".rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",") if lang == "fr" else text


def _eur(value: float | None, lang: str) -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}"
    return f"{text.replace(',', ' ')} €" if lang == "fr" else f"€{text}"


def _pct(value: float, lang: str) -> str:
    text = f"{value * 100:.1f}"
    return f"{text.replace('.', ',')} %" if lang == "fr" else f"{text} %"
