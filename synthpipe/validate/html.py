"""The fidelity report for people: one self-contained HTML file with inline SVG plots.

No scripts, fonts or images are fetched: the page renders offline in any browser.
"""

from __future__ import annotations

from collections.abc import Sequence

from synthpipe.validate.charts import (
    EXPECTED,
    FRAUD_COLOURS,
    HALF_HEIGHT,
    HALF_WIDTH,
    OBSERVED,
    OBSERVED_EXPECTED,
    SMALL_HEIGHT,
    SMALL_WIDTH,
    bar_chart,
    legend,
    line_chart,
    observed_expected_bars,
    pyramid_chart,
    tag,
    text,
)
from synthpipe.validate.results import (
    FidelityReport,
    LeakageAudit,
    LeakageNotComputed,
    LeakageSection,
    LearnabilityScored,
    LearnabilitySection,
    Verdict,
)

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

NOT_COMPUTED = "not computed"  # a section's note when it has none of its own


def _month_ticks(dates: Sequence[str]) -> list[tuple[int, str]]:
    """The x-axis labels of a daily chart: each month's first day."""
    return [(i, d[:7]) for i, d in enumerate(dates) if d.endswith("-01")]


def _cell(value: object, numeric: bool = False) -> str:
    """A table cell, right-aligned when numeric."""
    return tag("td", text(value), class_="num") if numeric else tag("td", text(value))


def _format(value: float | None, spec: str) -> str:
    """``value`` formatted; empty when there is none."""
    return "" if value is None else format(value, spec)


def tests_table(tests: Sequence[Verdict]) -> str:
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
    for test in sorted(tests, key=lambda t: (t.passed, t.group, t.name)):
        cells = [
            _cell(test.name),
            _cell(test.group),
            _cell(test.statistic),
            _cell(_format(test.value, ".6g"), numeric=True),
            _cell(f"{test.comparator} {_format(test.threshold, '.6g')}", numeric=True),
            _cell(_format(test.p_value, ".3g"), numeric=True),
            tag("td", tag("b", "pass" if test.passed else "FAIL")),
            _cell(test.explanation),
        ]
        rows.append(tag("tr", "".join(cells), class_="" if test.passed else "failed"))
    return tag("table", "".join(rows), id="tests")


def _grid(items: Sequence[tuple[str, str]]) -> str:
    """Named charts side by side, wrapping."""
    return tag(
        "div",
        "".join(
            tag("div", tag("div", text(name), class_="small") + chart) for name, chart in items
        ),
        class_="grid",
    )


def learnability_table(section: LearnabilitySection | None) -> str:
    """ROC AUC and average precision of each learner, overall and per fraud type, on the
    test period (the report's learnability section)."""
    if not isinstance(section, LearnabilityScored):
        return tag("p", text(NOT_COMPUTED if section is None else section.note))
    scores = section.true_labels
    kinds = sorted({k for learner in scores.values() for k in learner.by_type})
    head = tag(
        "tr",
        "".join(tag("th", text(h)) for h in ("learner", "ROC AUC", "avg precision", *kinds)),
    )
    rows = []
    graph = {f"{learner} + graph": score for learner, score in (section.with_graph or {}).items()}
    for learner, score in {**scores, **graph}.items():
        cells = [learner, f"{score.roc_auc:.3f}", f"{score.average_precision:.3f}"]
        cells += [
            f"{score.by_type[k].average_precision:.3f}" if k in score.by_type else "-"
            for k in kinds
        ]
        rows.append(tag("tr", "".join(tag("td", text(c)) for c in cells)))
    sample = section.sample
    caption = (
        f"Trained on the calendar until {sample.train_until}, tested after; sample of"
        f" {sample.transactions:,} transactions ({sample.fraud:,} fraud) of 1 in"
        f" {sample.customers_stride} customers. Per type: average precision of that type"
        f" against legitimate transactions; '+ graph': trained with the identity graph's"
        f" features too. Prevalence in the test period:"
        f" {section.prevalence_test:.4f} (the average precision of a random ranking)."
    )
    return tag("p", text(caption)) + tag("table", head + "".join(rows))


LEAKAGE_HEADINGS = ("transform", "kind", "what", "ROC AUC", "SE", "later fraud", "verdict")


def leakage_table(section: LeakageSection) -> str:
    """Every audited transform's target-encoding ROC AUC on the later part, artefacts
    with their verdict (the report's leakage section)."""
    if not isinstance(section, LeakageAudit) or not section.transforms:
        note = section.note if isinstance(section, LeakageNotComputed) else NOT_COMPUTED
        return tag("p", text(note))
    rows = [tag("tr", "".join(tag("th", text(h)) for h in LEAKAGE_HEADINGS))]
    for record in section.transforms:
        verdict = "listed" if record.passed is None else "pass" if record.passed else "FAIL"
        cells = [_cell(record.name), _cell(record.kind), _cell(record.what)]
        cells += [_cell(_format(v, ".3f"), numeric=True) for v in (record.roc_auc, record.se)]
        cells += [_cell(record.later_fraud or "", numeric=True), _cell(verdict)]
        failed = record.passed is False
        rows.append(tag("tr", "".join(cells), class_="failed" if failed else ""))
    sample = section.sample
    caption = (
        f"Target encoding (smoothing {section.smoothing:g}) fitted until"
        f" {sample.earlier_until}, ROC AUC after, on {sample.transactions:,}"
        f" transactions ({sample.fraud:,} fraud). Artefacts fail above"
        f" {section.gate:g}; behavioural signals are listed."
    )
    return tag("p", text(caption)) + tag("table", "".join(rows))


def _section(anchor: str, title: str, *content: str) -> str:
    """A titled, anchored part of the page."""
    return tag("h2", text(title), id=anchor) + "".join(content)


def render_html(report: FidelityReport) -> str:
    """The whole report page."""
    s = report.series
    summary = report.summary
    passed = report.passed
    title = f"synthpipe fidelity report: {'PASS' if passed else 'FAIL'}"
    verdict = "all tests pass" if passed else f"{summary.failed} of {summary.tests} tests fail"
    about = (
        f"dataset {report.dataset} · spec {report.spec_sha256[:12]}"
        f" · seed {report.seed} · synthpipe {report.version} · {report.created_at}"
    )
    rows = ", ".join(f"{n:,} {table}" for table, n in summary.rows.items())
    daily, weekday, pyramid = s.daily, s.weekday, s.age_pyramid
    fraud, categories = s.fraud_rate_by_month, s.category_share_by_month
    buyers, online = s.purchases_by_class, s.online_share_by_age
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
                    ("observed sales", daily.observed, OBSERVED, False),
                    ("expected sales", daily.expected, EXPECTED, True),
                ],
                _month_ticks(daily.dates),
                title="daily volume",
            ),
        ),
        _section(
            "weekday",
            "Weekday profile (share of sales)",
            observed_expected,
            observed_expected_bars(
                weekday.labels, weekday.observed, weekday.expected, title="weekday profile"
            ),
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
                                ("observed", h.observed, OBSERVED, False),
                                ("expected", h.expected, EXPECTED, True),
                            ],
                            [(i, str(i)) for i in range(0, 24, 3)],
                            HALF_WIDTH,
                            HALF_HEIGHT,
                            name,
                        ),
                    )
                    for name, h in s.hours.items()
                ]
            ),
        ),
        _section(
            "pyramid",
            "Age pyramid",
            tag("p", "bars: observed customers; black ticks: the spec's pyramid.", class_="small"),
            pyramid_chart(
                pyramid.bands,
                pyramid.observed.get("female", ()),
                pyramid.observed.get("male", ()),
                pyramid.expected_share,
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
                            buyers.income_bands,
                            panel.observed,
                            panel.expected,
                            HALF_WIDTH,
                            HALF_HEIGHT,
                            name,
                        ),
                    )
                    for name, panel in buyers.panels.items()
                ]
            ),
        ),
        _section(
            "online",
            "Online share of sales per age band",
            observed_expected,
            observed_expected_bars(
                online.bands, online.observed, online.expected, title="online share by age band"
            ),
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
                    for name, counts in s.amount_histograms.by_category.items()
                ]
            ),
        ),
        _section(
            "fraud",
            "Fraud rate per month and type",
            legend([(n, FRAUD_COLOURS[i]) for i, n in enumerate(fraud.by_type)]),
            line_chart(
                [
                    (name, values, FRAUD_COLOURS[i], False)
                    for i, (name, values) in enumerate(fraud.by_type.items())
                ],
                list(enumerate(fraud.months)),
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
                                    [r[k] for r in categories.observed],
                                    OBSERVED,
                                    False,
                                ),
                                (
                                    "expected",
                                    [r[k] for r in categories.expected],
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
                    for k, name in enumerate(categories.categories)
                ]
            ),
        ),
        _section(
            "learnability",
            "How learnable the fraud is",
            learnability_table(report.learnability),
        ),
        _section(
            "leakage",
            "Does anything but behaviour predict the fraud label?",
            leakage_table(report.leakage),
        ),
        _section("verdicts", "Every test", tests_table(report.tests)),
    ]
    if report.issues:
        items = "".join(tag("li", text(issue)) for issue in report.issues)
        sections.append(_section("issues", "Integrity findings", tag("ul", items)))
    head = tag("meta", charset="utf-8")[: -len("</meta>")] + tag("title", text(title))
    head += tag("style", STYLE)
    return "<!DOCTYPE html>" + tag(
        "html", tag("head", head) + tag("body", "".join(sections)), lang="en"
    )
