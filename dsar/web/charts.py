"""Small SVG charts drawn on the server: no JavaScript, no chart library, readable when printed.

Every label is escaped; the numbers are also given as a table next to each chart for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

FONT = "font-family=\"'Noto Sans CJK KR','Apple SD Gothic Neo','Malgun Gothic',sans-serif\""


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    values: list[int]


def _nice_max(value: int) -> int:
    """A round axis top at or above the largest value (1, 2, 5 × 10ⁿ)."""
    if value <= 5:
        return 5
    step = 1
    while True:
        for m in (1, 2, 5):
            if value <= m * step * 5:
                return m * step * 5
        step *= 10


def grouped_bars(title: str, labels: list[str], series: list[Series], *, width: int = 720, height: int = 260) -> Markup:
    """Bars of several series side by side for each label, with a y axis, grid lines and a legend."""
    left, right, top, bottom = 40, 10, 30, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max([v for s in series for v in s.values] + [0]))
    n = max(len(labels), 1)
    group_w = plot_w / n
    bar_w = max(2.0, (group_w - 6) / max(len(series), 1))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart" {FONT} font-size="11">',
             f"<title>{escape(title)}</title>"]
    for i in range(6):
        value = top_value * i / 5
        y = top + plot_h - plot_h * i / 5
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6ea"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{value:g}</text>')
    for gi, label in enumerate(labels):
        x0 = left + gi * group_w + 3
        for si, s in enumerate(series):
            value = s.values[gi] if gi < len(s.values) else 0
            h = plot_h * value / top_value
            x = x0 + si * bar_w
            parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" height="{h:.1f}" '
                         f'fill="{s.color}"><title>{escape(label)} {escape(s.name)}: {value}</title></rect>')
        parts.append(f'<text x="{x0 + (group_w - 6) / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                     f'fill="#333">{escape(label)}</text>')
    lx = left
    for s in series:
        parts.append(f'<rect x="{lx}" y="8" width="12" height="12" fill="{s.color}"/>'
                     f'<text x="{lx + 16}" y="18" fill="#333">{escape(s.name)}</text>')
        lx += 24 + 13 * len(s.name)
    parts.append("</svg>")
    return Markup("".join(parts))


def rate_bars(title: str, rows: list[tuple[str, float | None]], *, width: int = 720) -> Markup:
    """One horizontal bar per row showing a rate from 0 to 100 %; rows with no data say so."""
    row_h, left = 26, 90
    height = 20 + row_h * max(len(rows), 1)
    plot_w = width - left - 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart" {FONT} font-size="12">', f"<title>{escape(title)}</title>"]
    for i, (label, rate) in enumerate(rows):
        y = 10 + i * row_h
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" fill="#333">{escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{plot_w}" height="16" fill="#eef0f3"/>')
        if rate is None:
            parts.append(f'<text x="{left + 6}" y="{y + 15}" fill="#777">종결 사건 없음</text>')
            continue
        color = "#2f7d4f" if rate >= 0.9 else "#c9822b" if rate >= 0.7 else "#c0392b"
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{plot_w * rate:.1f}" height="16" fill="{color}"/>')
        parts.append(f'<text x="{left + plot_w + 8}" y="{y + 15}" fill="#333">{rate * 100:.0f}%</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
