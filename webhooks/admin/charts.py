"""Charts drawn on the server as inline SVG (no script, nothing from another origin): they fit the 1,000 px iframe."""
from __future__ import annotations

from datetime import date
from html import escape

from markupsafe import Markup

BAR_COLOURS = {"training": "#1f6feb", "internal_project": "#8250df", "mission_search": "#bf8700", "mecenat": "#1a7f37",
               "unrecorded": "#afb8c1"}
STATE_COLOURS = {"done": "#1a7f37", "late": "#cf222e", "planned": "#1f6feb", "kept": "#8250df", "closed": "#57606a",
                 "dismissed": "#afb8c1", "cancel": "#afb8c1"}


def month_bars(months: list[tuple[str, float, float]], *, title: str, band: tuple[float, float] | None = None,
               width: int = 900, height: int = 220) -> Markup:
    """Bars of bench days per month, each labelled; `band`: the rate benchmark drawn behind, as a share of capacity.

    `months` holds (label, bench days, capacity in days: headcount × working days).
    """
    top = max([d for _, d, _ in months] + [c * band[1] for _, _, c in months if band] + [1])
    left, bottom, plot_h = 40, 30, height - 50
    step = (width - left - 10) / max(len(months), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for i, (name, days, capacity) in enumerate(months):
        x = left + i * step
        if band and capacity:
            y1, y2 = _y(capacity * band[1], top, plot_h), _y(capacity * band[0], top, plot_h)
            parts.append(f'<rect x="{x:.1f}" y="{y1:.1f}" width="{step - 4:.1f}" height="{y2 - y1:.1f}" '
                         f'fill="#fff4d6"/>')
        y = _y(days, top, plot_h)
        parts.append(f'<rect class="bar" x="{x + step * 0.15:.1f}" y="{y:.1f}" width="{step * 0.6:.1f}" '
                     f'height="{plot_h + 10 - y:.1f}" fill="#1f6feb"><title>{escape(name)}: {days:g}</title></rect>')
        parts.append(f'<text x="{x + step * 0.45:.1f}" y="{y - 4:.1f}" font-size="11" text-anchor="middle">'
                     f'{days:g}</text>')
        parts.append(f'<text x="{x + step * 0.45:.1f}" y="{height - bottom + 18:.1f}" font-size="11" '
                     f'text-anchor="middle">{escape(name)}</text>')
    parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{plot_h + 10}" y2="{plot_h + 10}" stroke="#8c959f"/></svg>')
    return Markup("".join(parts))


def share_bar(shares: list[tuple[str, str, float]], *, title: str, width: int = 900, height: int = 46) -> Markup:
    """One horizontal bar split by activity: (code, label, days)."""
    total = sum(d for _, _, d in shares) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    x = 0.0
    for code, name, days in shares:
        w = width * days / total
        parts.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height - 16}" fill="{BAR_COLOURS.get(code, "#999")}">'
                     f'<title>{escape(name)}: {days:.1f}</title></rect>')
        if w > 60:
            parts.append(f'<text x="{x + 4:.1f}" y="{height - 24}" font-size="12" fill="#fff">{days / total:.0%}</text>')
        x += w
    parts.append("</svg>")
    return Markup("".join(parts))


def timeline(items: list[dict], *, end: date, today: date, words: dict, width: int = 940) -> Markup:
    """Steps on a date axis around the mission's end: a dot per step coloured by state, the end and today lines.

    `items` hold due (date), label, state (done, late, planned, kept, closed, dismissed, cancel) and owner.
    """
    days = [i["due"] for i in items if i.get("due")] + [end, today]
    first, last = min(days), max(days)
    span = max((last - first).days, 1)
    row_h, left, right = 24, 10, 10
    height = 40 + row_h * len(items)

    def x(day: date) -> float:
        return left + (width - left - right) * (day - first).days / span

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(words["timeline"])}"><title>{escape(words["timeline"])}</title>']
    for mark, day, colour in ((words["end"], end, "#1d2733"), (words["today"], today, "#cf222e")):
        side, tx = ("end", x(day) - 3) if x(day) > width * 0.7 else ("start", x(day) + 3)
        parts.append(f'<line class="mark" x1="{x(day):.1f}" x2="{x(day):.1f}" y1="14" y2="{height}" stroke="{colour}" '
                     f'stroke-dasharray="4 3"/><text x="{tx:.1f}" y="11" font-size="11" fill="{colour}" '
                     f'text-anchor="{side}">{escape(mark)} {day.isoformat()}</text>')
    for n, item in enumerate(items):
        if not item.get("due"):
            continue
        cx, cy = x(item["due"]), 34 + n * row_h
        colour = STATE_COLOURS.get(item["state"], "#1f6feb")
        anchor, tx = ("end", cx - 9) if cx > width * 0.6 else ("start", cx + 9)
        parts.append(f'<circle class="step {escape(item["state"])}" cx="{cx:.1f}" cy="{cy}" r="6" fill="{colour}">'
                     f'<title>{escape(item["label"])}</title></circle>')
        parts.append(f'<text x="{tx:.1f}" y="{cy + 4}" font-size="11" text-anchor="{anchor}">'
                     f'{escape(item["due"].isoformat())} · {escape(item["label"])[:70]}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _y(value: float, top: float, plot_h: float) -> float:
    return 10 + plot_h * (1 - value / top)
