"""Charts drawn on the server as SVG: a line chart, horizontal bars and a heat map.

Pure functions from numbers to markup. Every label goes through format_html, so a class
or feature name taken from an uploaded table is text, never markup. Colours and sizes are
SVG presentation attributes (fill, x, width...), which the CSP allows, not style="".
"""

import math
from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

ACCENT = "#4f46e5"
MUTED = "#667085"
GRID = "#e3e6ec"
TEXT = "#1f2430"
FONT = 12
CHAR_WIDTH = 7  # an estimate of one character at 12px, to size the label column


def _num(value: float) -> str:
    """A coordinate with two decimals: short markup, no exponent."""
    return f"{value:.2f}"


def _fmt(value: float, digits: int = 3) -> str:
    if not math.isfinite(value):
        return "—"
    if abs(value) < 1e-9:
        return "0"  # float noise (a permutation importance of -3.7e-17) is zero
    return f"{value:.{digits}g}" if abs(value) >= 1000 or abs(value) < 0.001 and value else f"{value:.{digits}f}"


def _svg(width: float, height: float, label: str, body: SafeString, css_class: str) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart {}" viewBox="0 0 {} {}" width="{}" height="{}" '
        'role="img" aria-label="{}" font-size="{}"><title>{}</title>{}</svg>',
        css_class, _num(width), _num(height), _num(width), _num(height), label, FONT, label, body,
    )  # fmt: skip


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]


def line_chart(
    points: Sequence[tuple[str, float]], *, label: str, y_label: str = "", width: int = 560, height: int = 220
) -> SafeString:
    """One series: x = the given labels in order (versions), y = their values.

    The y axis spans the data with a little room, so small differences between versions are
    visible; its two end values are printed, so the scale is never hidden.
    """
    values = _finite([v for _, v in points])
    if not values:
        return _svg(width, 40, label, format_html('<text x="0" y="24" fill="{}">No data.</text>', MUTED), "chart-line")
    left, right, top, bottom = 56, 16, 14, 40
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or abs(high) * 0.05 or 0.5
    low, high = low - pad, high + pad
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(points) - 1, 1)

    def x_of(index: int) -> float:
        return left + (index * step if len(points) > 1 else plot_w / 2)

    def y_of(value: float) -> float:
        return top + (high - value) / (high - low) * plot_h

    grid = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/><text x="{}" y="{}" text-anchor="end" fill="{}">{}</text>',
        (
            (left, _num(y_of(v)), width - right, _num(y_of(v)), GRID, left - 6, _num(y_of(v) + 4), MUTED, _fmt(v))
            for v in (high - pad, (high + low) / 2, low + pad)
        ),
    )
    drawn = [(i, name, v) for i, (name, v) in enumerate(points) if v in values]
    path = " ".join(f"{'M' if n == 0 else 'L'}{_num(x_of(i))},{_num(y_of(v))}" for n, (i, _, v) in enumerate(drawn))
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="4" fill="{}"><title>{}: {}</title></circle>',
        ((_num(x_of(i)), _num(y_of(v)), ACCENT, name, _fmt(v, 4)) for i, name, v in drawn),
    )
    ticks = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
        ((_num(x_of(i)), height - bottom + 18, TEXT, name) for i, (name, _) in enumerate(points)),
    )
    axis_label = format_html(
        '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
        _num(left + plot_w / 2),
        height - 4,
        MUTED,
        y_label,
    )
    body = format_html(
        '{}<path d="{}" fill="none" stroke="{}" stroke-width="2"/>{}{}{}',
        grid, path, ACCENT, dots, ticks, axis_label if y_label else "",
    )  # fmt: skip
    return _svg(width, height, label, body, "chart-line")


def horizontal_bars(
    items: Sequence[tuple[str, float]],
    *,
    label: str,
    errors: Sequence[float] | None = None,
    max_value: float | None = None,
    width: int = 480,
    bar_height: int = 18,
    digits: int = 3,
) -> SafeString:
    """One bar per item, longest label on the left; `errors` draws ± whiskers (e.g. a std)."""
    if not items:
        return _svg(width, 40, label, format_html('<text x="0" y="24" fill="{}">No data.</text>', MUTED), "chart-bars")
    names = [str(name) for name, _ in items]
    label_w = min(max(len(n) for n in names) * CHAR_WIDTH + 10, width // 2)
    value_w = 56
    plot_w = width - label_w - value_w
    gap = 6
    height = len(items) * (bar_height + gap) + gap
    top_value = max_value if max_value else max((abs(v) for v in _finite([v for _, v in items])), default=1.0) or 1.0
    rows = []
    for index, (name, value) in enumerate(items):
        y = gap + index * (bar_height + gap)
        length = max(0.0, min(1.0, (value if math.isfinite(value) else 0.0) / top_value)) * plot_w
        whisker, end = SafeString(""), label_w + length
        if errors is not None and index < len(errors) and errors[index] and math.isfinite(errors[index]):
            spread = errors[index] / top_value * plot_w
            x1, x2 = max(label_w, label_w + length - spread), min(label_w + plot_w, label_w + length + spread)
            end = max(end, x2)
            whisker = format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>',
                _num(x1), _num(y + bar_height / 2), _num(x2), _num(y + bar_height / 2), TEXT,
            )  # fmt: skip
        rows.append(
            format_html(
                '<g><title>{}: {}</title><text x="{}" y="{}" text-anchor="end" fill="{}">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" rx="3" fill="{}"/>{}'
                '<text x="{}" y="{}" fill="{}">{}</text></g>',
                name,
                _fmt(value, 4),
                label_w - 8,
                _num(y + bar_height - 5),
                TEXT,
                _truncate(name, label_w),
                label_w,
                y,
                _num(length),
                bar_height,
                ACCENT,
                whisker,
                _num(end + 6),
                _num(y + bar_height - 5),
                MUTED,
                _fmt(value, digits),
            )  # fmt: skip
        )
    return _svg(width, height, label, mark_safe("".join(rows)), "chart-bars")  # noqa: S308 - each row is format_html


def _truncate(text: str, pixels: int) -> str:
    limit = max(4, (pixels - 10) // CHAR_WIDTH)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def heat_map(labels: Sequence[str], matrix: Sequence[Sequence[float]], *, label: str, cell: int = 40) -> SafeString:
    """A confusion matrix: rows are the true class, columns the predicted one; darker = more.

    Each row is shaded against its own total (the share of that class), so a rare class's
    mistakes are as visible as a common one's; the cell prints the count.
    """
    size = len(labels)
    if not size or len(matrix) != size:
        return _svg(240, 40, label, format_html('<text x="0" y="24" fill="{}">No data.</text>', MUTED), "chart-heat")
    names = [str(name) for name in labels]
    label_w = min(max(max(len(n) for n in names) * CHAR_WIDTH + 12, 52), 160)  # room for "true ↓"
    top = 34
    width, height = label_w + size * cell + 4, top + size * cell + 22
    parts = [
        format_html(
            '<text x="{}" y="12" text-anchor="middle" fill="{}">predicted</text>'
            '<text x="{}" y="{}" text-anchor="end" fill="{}">true ↓</text>',
            _num(label_w + size * cell / 2),
            MUTED,
            label_w - 6,
            top - 6,
            MUTED,
        )  # fmt: skip
    ]
    for column, name in enumerate(names):
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                _num(label_w + column * cell + cell / 2),
                top - 6,
                TEXT,
                _truncate(name, cell + 8),
            )  # fmt: skip
        )
    for row, (name, counts) in enumerate(zip(names, matrix, strict=True)):
        total = sum(counts) or 1
        y = top + row * cell
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" fill="{}">{}</text>',
                label_w - 6,
                _num(y + cell / 2 + 4),
                TEXT,
                _truncate(name, label_w),
            )  # fmt: skip
        )
        for column, count in enumerate(counts):
            share = count / total
            colour = ACCENT if row == column else "#c2331f"
            parts.append(
                format_html(
                    "<g><title>true {}, predicted {}: {} ({}%)</title>"
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" fill-opacity="{}" stroke="#fff"/>'
                    '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text></g>',
                    name,
                    names[column],
                    count,
                    f"{share * 100:.0f}",
                    label_w + column * cell,
                    y,
                    cell,
                    cell,
                    colour,
                    f"{0.06 + 0.84 * share:.2f}",
                    _num(label_w + column * cell + cell / 2),
                    _num(y + cell / 2 + 4),
                    "#fff" if share > 0.55 else TEXT,
                    count,
                )  # fmt: skip
            )
    return _svg(width, height, label, mark_safe("".join(parts)), "chart-heat")  # noqa: S308 - parts are format_html
