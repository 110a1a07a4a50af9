"""SVG chart primitives of the HTML reports: elements, axes, line and bar charts, a
population pyramid and legends, drawn as inline SVG (nothing fetched)."""

from __future__ import annotations

import html
from collections.abc import Sequence

PALETTE = ("#1f6feb", "#d1242f", "#2da44e", "#bf8700", "#8250df", "#57606a", "#cf222e", "#0550ae")
OBSERVED, EXPECTED = PALETTE[0], PALETTE[1]
OBSERVED_EXPECTED = (("observed", OBSERVED), ("expected", EXPECTED))
FRAUD_COLOURS = PALETTE[2:]
CHART_WIDTH, CHART_HEIGHT = 920, 260
HALF_WIDTH, HALF_HEIGHT = 450, 200
SMALL_WIDTH, SMALL_HEIGHT = 290, 150
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 14, 30  # plot margins in pixels
Y_TICKS = 4
HEADROOM = 1.08  # space above the highest value
PYRAMID_ROW, PYRAMID_GAP = 20, 6
PYRAMID_LABEL = 30  # half-width of the band labels column
PYRAMID_MARGIN = 80

Series = tuple[str, Sequence[float], str, bool]  # name, values, colour, dashed


def tag(name: str, content: str = "", **attributes: object) -> str:
    """An element; attribute names use '_' for '-' and a trailing '_' for keywords."""
    attrs = "".join(
        f' {key.rstrip("_").replace("_", "-")}="{html.escape(str(value))}"'
        for key, value in attributes.items()
    )
    return f"<{name}{attrs}>{content}</{name}>"


def text(value: object) -> str:
    """Escaped text."""
    return html.escape(str(value))


def _scale(value: float, low: float, high: float, start: float, end: float) -> float:
    """``value`` mapped linearly from [low, high] onto [start, end] (the middle when the
    range is empty)."""
    if high == low:
        return (start + end) / 2
    return start + (value - low) / (high - low) * (end - start)


def _number(value: float) -> str:
    """An axis label: thousands grouped, one decimal from 1, three below."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.1f}"
    return f"{value:.3f}"


def _axes(width: int, height: int, top: float) -> list[str]:
    """The horizontal grid lines and their value labels, 0 to ``top``."""
    parts = []
    for i in range(Y_TICKS + 1):
        value = top * i / Y_TICKS
        y = _scale(value, 0, top, height - BOTTOM, TOP)
        parts.append(
            tag("line", x1=LEFT, x2=width - RIGHT, y1=f"{y:.1f}", y2=f"{y:.1f}", stroke="#eaeef2")
        )
        parts.append(tag("text", _number(value), x=LEFT - 4, y=f"{y + 3:.1f}", text_anchor="end"))
    return parts


def _svg(parts: list[str], width: int, height: int, label: str) -> str:
    """The ``svg`` element around ``parts``, labelled for screen readers."""
    return tag(
        "svg",
        "".join(parts),
        xmlns="http://www.w3.org/2000/svg",
        width=width,
        height=height,
        role="img",
        aria_label=label,
    )


def line_chart(
    series: Sequence[Series],
    labels: Sequence[tuple[int, str]],
    width: int = CHART_WIDTH,
    height: int = CHART_HEIGHT,
    title: str = "",
) -> str:
    """An SVG line chart of one or more series sharing an x axis."""
    count = max((len(values) for _, values, _, _ in series), default=0)
    top = max((v for _, values, _, _ in series for v in values), default=0.0) * HEADROOM or 1.0
    parts = _axes(width, height, top)
    last = max(count - 1, 1)
    for index, label in labels:
        x = _scale(index, 0, last, LEFT, width - RIGHT)
        parts.append(tag("text", text(label), x=f"{x:.1f}", y=height - 10, text_anchor="middle"))
    for name, values, colour, dashed in series:
        points = " ".join(
            f"{_scale(i, 0, last, LEFT, width - RIGHT):.1f},"
            f"{_scale(v, 0, top, height - BOTTOM, TOP):.1f}"
            for i, v in enumerate(values)
        )
        style = {"stroke_dasharray": "5 3"} if dashed else {}
        parts.append(
            tag(
                "polyline",
                tag("title", text(name)),
                fill="none",
                stroke=colour,
                stroke_width="1.5",
                points=points,
                **style,
            )
        )
    return _svg(parts, width, height, title)


def bar_chart(
    groups: Sequence[str],
    series: Sequence[tuple[str, Sequence[float], str]],
    width: int = CHART_WIDTH,
    height: int = CHART_HEIGHT,
    title: str = "",
) -> str:
    """Grouped vertical bars: one bar per series in each group."""
    top = max((v for _, values, _ in series for v in values), default=0.0) * HEADROOM or 1.0
    parts = _axes(width, height, top)
    slot = (width - RIGHT - LEFT) / max(len(groups), 1)
    bar = slot * 0.8 / max(len(series), 1)
    base = height - BOTTOM
    for g, group in enumerate(groups):
        centre = LEFT + (g + 0.5) * slot
        parts.append(
            tag("text", text(group), x=f"{centre:.1f}", y=height - 10, text_anchor="middle")
        )
        for s, (name, values, colour) in enumerate(series):
            y = _scale(values[g], 0, top, base, TOP)
            x = LEFT + g * slot + slot * 0.1 + s * bar
            hint = tag("title", text(f"{name} {group}: {values[g]:.4g}"))
            parts.append(
                tag(
                    "rect",
                    hint,
                    x=f"{x:.1f}",
                    y=f"{y:.1f}",
                    width=f"{bar:.1f}",
                    height=f"{base - y:.1f}",
                    fill=colour,
                )
            )
    return _svg(parts, width, height, title)


def observed_expected_bars(
    groups: Sequence[str],
    observed: Sequence[float],
    expected: Sequence[float],
    width: int = CHART_WIDTH,
    height: int = CHART_HEIGHT,
    title: str = "",
) -> str:
    """Observed and expected bars side by side in each group."""
    (observed_name, observed_colour), (expected_name, expected_colour) = OBSERVED_EXPECTED
    series = [
        (observed_name, observed, observed_colour),
        (expected_name, expected, expected_colour),
    ]
    return bar_chart(groups, series, width, height, title)


def pyramid_chart(
    bands: Sequence[str],
    female: Sequence[float],
    male: Sequence[float],
    expected_share: Sequence[float],
) -> str:
    """A population pyramid: female to the left, male to the right; black ticks mark the
    spec's share of each band, split evenly between the two sides."""
    width, height = CHART_WIDTH, TOP + 16 + (PYRAMID_ROW + PYRAMID_GAP) * len(bands)
    centre = width / 2
    total = max(sum(female) + sum(male), 1.0)
    left = [v / total for v in female]
    right = [v / total for v in male]
    top = max([*left, *right, *(e / 2 for e in expected_share), 1e-9]) * HEADROOM
    reach = centre - PYRAMID_MARGIN
    parts = [
        tag("text", "female", x=centre - PYRAMID_LABEL - 10, y=12, text_anchor="end"),
        tag("text", "male", x=centre + PYRAMID_LABEL + 10, y=12),
    ]
    for row, band in enumerate(reversed(range(len(bands)))):
        y = TOP + 6 + row * (PYRAMID_ROW + PYRAMID_GAP)
        lw, rw = left[band] / top * reach, right[band] / top * reach
        ew = expected_share[band] / 2 / top * reach
        parts.append(
            tag(
                "rect",
                tag("title", text(f"female {bands[band]}: {left[band]:.4f}")),
                x=f"{centre - PYRAMID_LABEL - lw:.1f}",
                y=y,
                width=f"{lw:.1f}",
                height=PYRAMID_ROW,
                fill=EXPECTED,
                opacity="0.75",
            )
        )
        parts.append(
            tag(
                "rect",
                tag("title", text(f"male {bands[band]}: {right[band]:.4f}")),
                x=f"{centre + PYRAMID_LABEL:.1f}",
                y=y,
                width=f"{rw:.1f}",
                height=PYRAMID_ROW,
                fill=OBSERVED,
                opacity="0.75",
            )
        )
        parts.append(tag("text", text(bands[band]), x=centre, y=y + 14, text_anchor="middle"))
        for x in (centre - PYRAMID_LABEL - ew, centre + PYRAMID_LABEL + ew):
            parts.append(
                tag(
                    "line",
                    x1=f"{x:.1f}",
                    x2=f"{x:.1f}",
                    y1=y - 2,
                    y2=y + PYRAMID_ROW + 2,
                    stroke="#1f2328",
                    stroke_width=2,
                )
            )
    return _svg(parts, width, height, "age pyramid")


def legend(items: Sequence[tuple[str, str]]) -> str:
    """A row of coloured swatches with names."""
    swatches = "".join(
        tag("span", tag("i", "", class_="swatch", style=f"background:{colour}") + text(name))
        for name, colour in items
    )
    return tag("div", swatches, class_="legend")
