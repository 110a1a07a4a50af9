"""The fidelity report for people: one self-contained HTML file with inline SVG plots.

No scripts, fonts or images are fetched: the page renders offline in any browser.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

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

STYLE = "\n".join(
    [
        "body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;",
        "max-width:980px;color:#1f2328}",
        "h1{font-size:24px;margin-bottom:4px}",
        "h2{font-size:18px;margin-top:32px;border-bottom:1px solid #d0d7de;padding-bottom:4px}",
        ".verdict{display:inline-block;padding:4px 12px;border-radius:16px;font-weight:600;",
        "color:#fff}",
        ".pass{background:#2da44e}.fail{background:#d1242f}",
        "table{border-collapse:collapse;width:100%;font-size:12px}",
        "td,th{border-bottom:1px solid #eaeef2;padding:4px 6px;text-align:left;vertical-align:top}",
        "tr.failed td{background:#ffebe9}.num{text-align:right;font-variant-numeric:tabular-nums}",
        ".grid{display:flex;flex-wrap:wrap;gap:12px}.small{font-size:12px;color:#57606a}",
        "svg text{font-size:10px;fill:#57606a}.legend span{margin-right:14px;font-size:12px}",
        ".swatch{display:inline-block;width:12px;height:3px;margin-right:4px;vertical-align:middle}",
    ]
)

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
    if high == low:
        return (start + end) / 2
    return start + (value - low) / (high - low) * (end - start)


def _number(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.1f}"
    return f"{value:.3f}"


def _axes(width: int, height: int, top: float) -> list[str]:
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
    values: dict[str, Sequence[float]],
    width: int = CHART_WIDTH,
    height: int = CHART_HEIGHT,
    title: str = "",
) -> str:
    """Observed and expected bars side by side in each group (``values`` holds both)."""
    series = [(name, values[name], colour) for name, colour in OBSERVED_EXPECTED]
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


def _month_ticks(dates: Sequence[str]) -> list[tuple[int, str]]:
    return [(i, d[:7]) for i, d in enumerate(dates) if d.endswith("-01")]


def _cell(value: object, numeric: bool = False) -> str:
    return tag("td", text(value), class_="num") if numeric else tag("td", text(value))


def _format(value: float | None, spec: str) -> str:
    return "" if value is None else format(value, spec)


def tests_table(tests: Sequence[dict[str, Any]]) -> str:
    """Every test, failing ones first."""
    header = "".join(
        tag("th", name)
        for name in (
            "test",
            "group",
            "statistic",
            "value",
            "threshold",
            "p-value",
            "verdict",
            "what it checks",
        )
    )
    rows = [tag("tr", header)]
    for test in sorted(tests, key=lambda t: (t["passed"], t["group"], t["name"])):
        cells = [
            _cell(test["name"]),
            _cell(test["group"]),
            _cell(test["statistic"]),
            _cell(_format(test["value"], ".6g"), numeric=True),
            _cell(f"{test['comparator']} {_format(test['threshold'], '.6g')}", numeric=True),
            _cell(_format(test.get("p_value"), ".3g"), numeric=True),
            tag("td", tag("b", "pass" if test["passed"] else "FAIL")),
            _cell(test["explanation"]),
        ]
        rows.append(tag("tr", "".join(cells), class_="" if test["passed"] else "failed"))
    return tag("table", "".join(rows), id="tests")


def _grid(items: Sequence[tuple[str, str]]) -> str:
    return tag(
        "div",
        "".join(
            tag("div", tag("div", text(name), class_="small") + chart) for name, chart in items
        ),
        class_="grid",
    )


def learnability_table(section: dict[str, Any]) -> str:
    """ROC AUC and average precision of each learner, overall and per fraud type, on the
    test period (the report's learnability section)."""
    if not section.get("available") or "true_labels" not in section:
        return tag("p", text(str(section.get("note", "not computed"))))
    scores = section["true_labels"]
    kinds = sorted({k for learner in scores.values() for k in learner["by_type"]})
    head = tag(
        "tr",
        "".join(tag("th", text(h)) for h in ("learner", "ROC AUC", "avg precision", *kinds)),
    )
    rows = []
    for learner, score in scores.items():
        cells = [learner, f"{score['roc_auc']:.3f}", f"{score['average_precision']:.3f}"]
        cells += [
            f"{score['by_type'][k]['average_precision']:.3f}" if k in score["by_type"] else "-"
            for k in kinds
        ]
        rows.append(tag("tr", "".join(tag("td", text(c)) for c in cells)))
    sample = section["sample"]
    caption = (
        f"Trained on the calendar until {sample['train_until']}, tested after; sample of"
        f" {sample['transactions']:,} transactions ({sample['fraud']:,} fraud) of 1 in"
        f" {sample['customers_stride']} customers. Per type: average precision of that type"
        f" against legitimate transactions. Prevalence in the test period:"
        f" {section['prevalence_test']:.4f} (the average precision of a random ranking)."
    )
    return tag("p", text(caption)) + tag("table", head + "".join(rows))


LEAKAGE_HEADINGS = ("transform", "kind", "what", "ROC AUC", "SE", "later fraud", "verdict")


def leakage_table(section: dict[str, Any]) -> str:
    """Every audited transform's target-encoding ROC AUC on the later part, artefacts
    with their verdict (the report's leakage section)."""
    if not section.get("transforms"):
        return tag("p", text(str(section.get("note", "not computed"))))
    rows = [tag("tr", "".join(tag("th", text(h)) for h in LEAKAGE_HEADINGS))]
    for record in section["transforms"]:
        verdict = {True: "pass", False: "FAIL"}.get(record.get("passed"), "listed")
        cells = [_cell(record[k]) for k in ("name", "kind", "what")]
        cells += [_cell(_format(record[k], ".3f"), numeric=True) for k in ("roc_auc", "se")]
        cells += [_cell(record["later_fraud"] or "", numeric=True), _cell(verdict)]
        failed = record.get("passed") is False
        rows.append(tag("tr", "".join(cells), class_="failed" if failed else ""))
    sample = section["sample"]
    caption = (
        f"Target encoding (smoothing {section['smoothing']:g}) fitted until"
        f" {sample['earlier_until']}, ROC AUC after, on {sample['transactions']:,}"
        f" transactions ({sample['fraud']:,} fraud). Artefacts fail above"
        f" {section['gate']:g}; behavioural signals are listed."
    )
    return tag("p", text(caption)) + tag("table", "".join(rows))


def _section(anchor: str, title: str, *content: str) -> str:
    return tag("h2", text(title), id=anchor) + "".join(content)


def render_html(report: dict[str, Any]) -> str:
    """The whole report page."""
    s = report["series"]
    summary = report["summary"]
    passed = report["passed"]
    title = f"synthpipe fidelity report: {'PASS' if passed else 'FAIL'}"
    verdict = (
        "all tests pass" if passed else f"{summary['failed']} of {summary['tests']} tests fail"
    )
    about = (
        f"dataset {report['dataset']} · spec {str(report['spec_sha256'])[:12]}"
        f" · seed {report['seed']} · synthpipe {report['version']} · {report['created_at']}"
    )
    rows = ", ".join(f"{n:,} {table}" for table, n in summary["rows"].items())
    daily, weekday, pyramid = s["daily"], s["weekday"], s["age_pyramid"]
    fraud, categories = s["fraud_rate_by_month"], s["category_share_by_month"]
    buyers, online = s["purchases_by_class"], s["online_share_by_age"]
    observed_expected = legend(OBSERVED_EXPECTED)
    sections = [
        tag("h1", text(title)),
        tag("p", tag("span", text(verdict), class_=f"verdict {'pass' if passed else 'fail'}")),
        tag("p", text(about), class_="small"),
        tag("p", text(rows)),
        _section(
            "daily",
            "Daily volume: expected vs observed",
            observed_expected,
            line_chart(
                [
                    ("observed sales", daily["observed"], OBSERVED, False),
                    ("expected sales", daily["expected"], EXPECTED, True),
                ],
                _month_ticks(daily["dates"]),
                title="daily volume",
            ),
        ),
        _section(
            "weekday",
            "Weekday profile (share of sales)",
            observed_expected,
            observed_expected_bars(weekday["labels"], weekday, title="weekday profile"),
        ),
        _section(
            "hours",
            "Hour-of-day profile per channel (share of sales)",
            observed_expected,
            _grid(
                [
                    (
                        name,
                        line_chart(
                            [
                                ("observed", h["observed"], OBSERVED, False),
                                ("expected", h["expected"], EXPECTED, True),
                            ],
                            [(i, str(i)) for i in range(0, 24, 3)],
                            HALF_WIDTH,
                            HALF_HEIGHT,
                            name,
                        ),
                    )
                    for name, h in s["hours"].items()
                ]
            ),
        ),
        _section(
            "pyramid",
            "Age pyramid",
            tag("p", "bars: observed customers; black ticks: the spec's pyramid.", class_="small"),
            pyramid_chart(
                pyramid["bands"],
                pyramid["observed"].get("female", []),
                pyramid["observed"].get("male", []),
                pyramid["expected_share"],
            ),
        ),
        _section(
            "buyers",
            "Sales per customer by income band, per segment and loyalty",
            observed_expected,
            tag(
                "p",
                "legitimate sales per customer over the calendar; expected: the spec's purchase"
                " rate (segment frequency x income elasticity x loyalty uplift) of the same"
                " customers.",
                class_="small",
            ),
            _grid(
                [
                    (
                        name,
                        observed_expected_bars(
                            buyers["income_bands"], panel, HALF_WIDTH, HALF_HEIGHT, name
                        ),
                    )
                    for name, panel in buyers["panels"].items()
                ]
            ),
        ),
        _section(
            "online",
            "Online share of sales per age band",
            observed_expected,
            observed_expected_bars(online["bands"], online, title="online share by age band"),
        ),
        _section(
            "amounts",
            "Line amounts per category",
            tag(
                "p",
                "histograms of net line amounts of legitimate sales, log scale 0.01 to 100,000.",
                class_="small",
            ),
            _grid(
                [
                    (
                        name,
                        bar_chart(
                            [""] * len(counts[1:-1]),
                            [("lines", counts[1:-1], OBSERVED)],
                            SMALL_WIDTH,
                            SMALL_HEIGHT,
                            name,
                        ),
                    )
                    for name, counts in s["amount_histograms"]["by_category"].items()
                ]
            ),
        ),
        _section(
            "fraud",
            "Fraud rate per month and type",
            legend([(n, FRAUD_COLOURS[i]) for i, n in enumerate(fraud["by_type"])]),
            line_chart(
                [
                    (name, values, FRAUD_COLOURS[i], False)
                    for i, (name, values) in enumerate(fraud["by_type"].items())
                ],
                list(enumerate(fraud["months"])),
                title="fraud rate",
            ),
        ),
        _section(
            "categories",
            "Category share per month",
            observed_expected,
            _grid(
                [
                    (
                        name,
                        line_chart(
                            [
                                (
                                    "observed",
                                    [r[k] for r in categories["observed"]],
                                    OBSERVED,
                                    False,
                                ),
                                (
                                    "expected",
                                    [r[k] for r in categories["expected"]],
                                    EXPECTED,
                                    True,
                                ),
                            ],
                            [],
                            SMALL_WIDTH,
                            SMALL_HEIGHT,
                            name,
                        ),
                    )
                    for k, name in enumerate(categories["categories"])
                ]
            ),
        ),
        _section(
            "learnability",
            "How learnable the fraud is",
            learnability_table(report.get("learnability") or {}),
        ),
        _section(
            "leakage",
            "Does anything but behaviour predict the fraud label?",
            leakage_table(report.get("leakage") or {}),
        ),
        _section("verdicts", "Every test", tests_table(report["tests"])),
    ]
    if report.get("issues"):
        items = "".join(tag("li", text(issue)) for issue in report["issues"])
        sections.append(_section("issues", "Integrity findings", tag("ul", items)))
    head = tag("meta", charset="utf-8")[: -len("</meta>")] + tag("title", text(title))
    head += tag("style", STYLE)
    return "<!DOCTYPE html>" + tag(
        "html", tag("head", head) + tag("body", "".join(sections)), lang="en"
    )
