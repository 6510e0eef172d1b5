"""Charts as server-rendered inline SVG: no JavaScript, no CDN, readable by screen readers.

Each function returns safe SVG markup. Every bar carries a <title> (hover tooltip) and the
chart a role="img" with a label, so the numbers are there without looking at the picture.
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6")
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 28, 56


def _nice_max(value: float) -> int:
    """A round axis maximum above value (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * exp:
            return int(step * exp)
    return int(10 * exp)


def _integer_max(value: float, steps: int = 4) -> int:
    """An axis maximum whose `steps` ticks are all whole numbers (people are counted whole)."""
    step = _nice_max(math.ceil(max(value, 1) / steps))
    return step * steps


def _wrap(text: str, width: int = 16, lines: int = 2) -> list[str]:
    """A label over at most `lines` lines of about `width` characters; the last one ends in
    "…" when the label is longer (the full label is in the element's tooltip)."""
    words, out, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        out.append(line)
    out = [w if len(w) <= width else w[: width - 1] + "…" for w in out] or [""]
    if len(out) > lines:
        out = out[:lines]
        out[-1] = (out[-1][: width - 1] if len(out[-1]) >= width else out[-1]) + "…"
    return out


def bar_chart(
    *,
    title: str,
    labels: list[str],
    series: dict[str, list[float]],
    y_label: str = "",
    colors: list[str] | None = None,
    highlight: list[bool] | None = None,
    integer: bool = False,
) -> SafeString:
    """Grouped bars: one group per label, one bar per series. `highlight` outlines groups red;
    `integer` keeps every axis tick a whole number (counts of people)."""
    colors = colors or list(PALETTE)
    names = list(series)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    peak = max((v for vals in series.values() for v in vals), default=0)
    top = _integer_max(peak) if integer else _nice_max(peak)
    parts: list[str] = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    # Grid lines and y axis ticks.
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{value:g}</text>')
    if y_label:
        parts.append(f'<text x="12" y="{TOP + plot_h / 2:.1f}" transform="rotate(-90 12 {TOP + plot_h / 2:.1f})" text-anchor="middle" class="tick">{escape(y_label)}</text>')
    if not labels:
        parts.append(f'<text x="{WIDTH / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" class="empty">No data yet</text>')
    group_w = plot_w / max(len(labels), 1)
    bar_w = min(36.0, group_w * 0.8 / max(len(names), 1))
    for gi, label in enumerate(labels):
        gx = LEFT + gi * group_w + (group_w - bar_w * len(names)) / 2
        if highlight and highlight[gi]:
            parts.append(f'<rect x="{LEFT + gi * group_w + 2:.1f}" y="{TOP}" width="{group_w - 4:.1f}" height="{plot_h}" class="highlight"/>')
        for si, name in enumerate(names):
            value = series[name][gi]
            h = plot_h * value / top if top else 0
            x = gx + si * bar_w
            y = TOP + plot_h - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" fill="{colors[si % len(colors)]}">'
                f"<title>{escape(label)}: {escape(name)} {value:g}</title></rect>"
            )
        cx = LEFT + gi * group_w + group_w / 2
        lines = _wrap(label, width=max(6, int(group_w / 6.5))) if len(labels) <= 6 else _wrap(label, 18, 1)
        rotate = "" if len(labels) <= 6 else f' transform="rotate(-30 {cx:.1f} {TOP + plot_h + 14})"'
        anchor = "middle" if len(labels) <= 6 else "end"
        spans = "".join(
            f'<tspan x="{cx:.1f}" dy="{0 if i == 0 else 13}">{escape(text)}</tspan>' for i, text in enumerate(lines)
        )
        parts.append(
            f'<text x="{cx:.1f}" y="{TOP + plot_h + 14}" text-anchor="{anchor}" class="label"{rotate}>'
            f"<title>{escape(label)}</title>{spans}</text>"
        )
    # Legend.
    lx = LEFT
    for si, name in enumerate(names):
        parts.append(f'<rect x="{lx}" y="8" width="10" height="10" fill="{colors[si % len(colors)]}"/>')
        parts.append(f'<text x="{lx + 14}" y="17" class="legend">{escape(name)}</text>')
        lx += 24 + 7 * len(name)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def histogram(*, title: str, values: list[float], bins: int = 10, lo: float = 0, hi: float = 100) -> SafeString:
    """Distribution of values in [lo, hi] (attendance %), `bins` equal buckets; hi falls in the last."""
    counts = [0] * bins
    width = (hi - lo) / bins
    for v in values:
        idx = min(bins - 1, max(0, int((v - lo) // width)))
        counts[idx] += 1
    labels = [f"{lo + i * width:g}–{lo + (i + 1) * width:g}%" for i in range(bins)]
    return bar_chart(
        title=title, labels=labels, series={"attendees": [float(c) for c in counts]}, y_label="people", integer=True,
    )


def runs_chart(*, runs: list[dict[str, Any]]) -> SafeString:
    """Sync runs over time: contacts written and people skipped per run; failed runs outlined."""
    return bar_chart(
        title="Sync runs over time",
        labels=[r["label"] for r in runs],
        series={
            "contacts created + updated": [float(r["written"]) for r in runs],
            "people skipped": [float(r["skipped"]) for r in runs],
        },
        colors=[PALETTE[2], PALETTE[1]],
        highlight=[r["failed"] for r in runs],
        integer=True,
    )
