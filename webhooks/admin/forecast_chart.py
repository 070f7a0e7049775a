"""The forecast's stacked week bars, drawn on the server as inline SVG (no script, nothing from another origin)."""
from __future__ import annotations

from html import escape

from markupsafe import Markup

from webhooks.admin.charts import _y

LAYER_COLOURS = {"on_bench": "#57606a", "coming_back": "#1f6feb", "to_confirm": "#bf8700"}


def stacked_weeks(weeks: list[tuple[str, dict[str, float], float]], *, names: dict[str, str], title: str,
                  band: tuple[float, float], width: int = 900, height: int = 240) -> Markup:
    """One bar per week, its bench days stacked by layer; the pale band is `band` (10–15 %) of the week's capacity.

    `weeks` holds (label, layer → bench days, capacity in days: headcount × working days); `names`: layer → words.
    """
    top = max([sum(layers.values()) for _, layers, _ in weeks] + [c * band[1] for _, _, c in weeks] + [1])
    left, plot_h = 10, height - 50
    step = (width - left - 10) / max(len(weeks), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for i, (label, layers, capacity) in enumerate(weeks):
        x = left + i * step
        if capacity:
            y1, y2 = _y(capacity * band[1], top, plot_h), _y(capacity * band[0], top, plot_h)
            parts.append(f'<rect x="{x:.1f}" y="{y1:.1f}" width="{step - 4:.1f}" height="{y2 - y1:.1f}" fill="#fff4d6"/>')
        base = 0.0
        for layer, colour in LAYER_COLOURS.items():
            days = layers.get(layer, 0)
            if days:
                y_top, y_bottom = _y(base + days, top, plot_h), _y(base, top, plot_h)
                parts.append(f'<rect class="layer {layer}" x="{x + step * 0.15:.1f}" y="{y_top:.1f}" '
                             f'width="{step * 0.6:.1f}" height="{y_bottom - y_top:.1f}" fill="{colour}">'
                             f'<title>{escape(label)} · {escape(names[layer])}: {days:g}</title></rect>')
            base += days
        parts.append(f'<text x="{x + step * 0.45:.1f}" y="{_y(base, top, plot_h) - 4:.1f}" font-size="11" '
                     f'text-anchor="middle">{base:g}</text>')
        parts.append(f'<text x="{x + step * 0.45:.1f}" y="{height - 12:.1f}" font-size="11" '
                     f'text-anchor="middle">{escape(label)}</text>')
    parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{plot_h + 10}" y2="{plot_h + 10}" stroke="#8c959f"/></svg>')
    return Markup("".join(parts))

