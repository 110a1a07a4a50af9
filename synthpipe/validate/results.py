"""The fidelity report as typed, frozen models.

``report.build_report`` builds one once; a later stage adds to it with ``model_copy``.
The engine, the HTML page, the flow and the CLI read its fields; it becomes JSON only
where report.json is written (``report_json``), in the same bytes as the dict it
replaced: the keys in declaration order, Python's own float formatting.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    model_serializer,
)

if TYPE_CHECKING:  # gates imports scipy: readers of a report need none of it
    from synthpipe.validate.gates import Check

REPORT_INDENT = 1  # report.json's indent: kept, so that reports diff against older ones


class Document(BaseModel):
    """A frozen part of the report. Fields named in OMIT_WHEN_NONE are left out of the
    JSON while None: report.json has those keys only when there is something in them."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    OMIT_WHEN_NONE: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> Any:
        """The fields' dict without the absent optional keys."""
        data = handler(self)
        if isinstance(data, dict):
            for key in self.OMIT_WHEN_NONE:
                if data.get(key, ...) is None:
                    del data[key]
        return data


# -- the tests and their summary ------------------------------------------------------


class Verdict(Document):
    """One test's line of the report (``Check.as_dict``: non-finite numbers are None)."""

    name: str
    group: str
    statistic: str
    value: float | None
    threshold: float | None
    passed: bool
    explanation: str
    p_value: float | None
    comparator: str

    @classmethod
    def of(cls, check: Check) -> Verdict:
        """The report's line of ``check``."""
        return cls.model_validate(check.as_dict())


class GroupCount(Document):
    """How many tests a group has, and how many of them failed."""

    tests: int
    failed: int


class Summary(Document):
    """The verdicts counted: overall, per group, and the rows of each table."""

    tests: int
    failed: int
    failed_tests: tuple[str, ...]
    groups: Mapping[str, GroupCount]
    rows: Mapping[str, int]

    @property
    def passing(self) -> int:
        """How many tests passed."""
        return self.tests - self.failed


class FraudCounts(Document):
    """Realised fraud per type and month, and each month's expected count."""

    by_type: Mapping[str, int]
    by_month: Mapping[str, Mapping[str, int]]
    expected_by_month: Mapping[str, Mapping[str, float]]


# -- the leakage audit (validate/leakage.py) -------------------------------------------


class LeakageSample(Document):
    """The audit's sample and its split in time."""

    transactions: int
    fraud: int
    earlier_until: str
    earlier_fraud: int
    later_fraud: int


class TransformScore(Document):
    """One audited transform's target-encoding score; ``passed`` for artefacts only."""

    OMIT_WHEN_NONE: ClassVar[frozenset[str]] = frozenset({"passed"})

    name: str
    column: str
    kind: str
    what: str
    within_strata: bool
    entity_split: str | None
    roc_auc: float | None
    se: float | None
    gated_value: float | None
    later_fraud: int | None
    later_legitimate: int | None
    effective_fraud: float | None
    passed: bool | None = None


class LeakageAudit(Document):
    """The leakage section, computed."""

    sample: LeakageSample
    smoothing: float
    gate: float
    point_estimate_positives: int
    transforms: tuple[TransformScore, ...]


class LeakageNotComputed(Document):
    """The leakage section when a file it reads is broken (its integrity checks say
    why)."""

    note: str
    transforms: tuple[TransformScore, ...]


class LeakageMissing(Document):
    """No unit measured leakage: an empty section."""


LeakageSection = LeakageAudit | LeakageNotComputed | LeakageMissing


# -- learnability (validate/learnability.py) -------------------------------------------


class LearnabilitySample(Document):
    """The learners' sample of whole customers and where its time split falls."""

    customers_stride: int
    transactions: int
    fraud: int
    train_until: str
    features: tuple[str, ...]
    graph_features: tuple[str, ...] = ()  # the identity graph's, when scored with them


class Scores(Document):
    """A ranking's ROC AUC and average precision."""

    roc_auc: float
    average_precision: float


class LearnerScores(Scores):
    """One learner's scores, overall and per fraud type (that type against legitimate)."""

    by_type: Mapping[str, Scores]


class LearnabilityUnavailable(Document):
    """Learnability not computed (an unreadable dataset), and why."""

    available: Literal[False]
    note: str


class LearnabilityTooFew(Document):
    """The sample holds too few fraud rows in its train or test period to score."""

    available: Literal[True]
    sample: LearnabilitySample
    prevalence_test: float | None
    note: str


class LearnabilityScored(Document):
    """Every learner scored, trained on the true labels and on those known at the split
    (None when too few were known)."""

    available: Literal[True]
    sample: LearnabilitySample
    prevalence_test: float | None
    true_labels: Mapping[str, LearnerScores]
    observed_labels: Mapping[str, LearnerScores] | None
    # trained on the true labels with the identity graph's features too (None: the
    # transactions carry no identity keys)
    with_graph: Mapping[str, LearnerScores] | None = None


LearnabilitySection = LearnabilityUnavailable | LearnabilityTooFew | LearnabilityScored


class ReferenceSection(Document):
    """The real sample compared with: its rows, and what could not be compared."""

    rows: int
    notes: tuple[str, ...]


# -- the series the HTML page draws ----------------------------------------------------


class ObservedExpected(Document):
    """Observed values beside the spec's expectation, element by element."""

    observed: tuple[float, ...]
    expected: tuple[float, ...]


class DailySeries(Document):
    """Ordinary sales per day, observed and expected."""

    dates: tuple[str, ...]
    observed: tuple[int, ...]
    expected: tuple[float, ...]


class WeekdayShares(Document):
    """Share of sales per weekday (``labels``, Monday first), observed and expected."""

    labels: tuple[str, ...]
    observed: tuple[float, ...]
    expected: tuple[float, ...]


class AgePyramid(Document):
    """Customers per age band and gender, and the spec's share of each band."""

    bands: tuple[str, ...]
    observed: Mapping[str, tuple[int, ...]]
    expected_share: tuple[float, ...]


class AmountHistograms(Document):
    """Net line amounts per category, binned on log10 cents."""

    log10_cent_edges: tuple[float, ...]
    by_category: Mapping[str, tuple[int, ...]]


class IncomeHistogram(Document):
    """Customers' incomes binned on log10."""

    log10_edges: tuple[float, ...]
    counts: tuple[int, ...]


class FraudRates(Document):
    """Fraud rate per month and type, and the spec's overall rate."""

    months: tuple[str, ...]
    target: float
    by_type: Mapping[str, tuple[float, ...]]


class PurchasesByClass(Document):
    """Sales per customer by income band, one panel per segment x loyalty."""

    income_bands: tuple[str, ...]
    panels: Mapping[str, ObservedExpected]


class OnlineShareByAge(Document):
    """Online share of legitimate sales per age band, observed and expected."""

    bands: tuple[str, ...]
    observed: tuple[float, ...]
    expected: tuple[float, ...]


class CategoryShares(Document):
    """Each month's share of sales per category, observed and expected (a row a month)."""

    months: tuple[str, ...]
    categories: tuple[str, ...]
    observed: tuple[tuple[float, ...], ...]
    expected: tuple[tuple[float, ...], ...]


class Series(Document):
    """Everything the HTML report draws."""

    daily: DailySeries
    weekday: WeekdayShares
    hours: Mapping[str, ObservedExpected]
    age_pyramid: AgePyramid
    amount_histograms: AmountHistograms
    income_histogram: IncomeHistogram
    fraud_rate_by_month: FraudRates
    purchases_by_class: PurchasesByClass
    online_share_by_age: OnlineShareByAge
    category_share_by_month: CategoryShares


# -- the whole report ------------------------------------------------------------------


class FidelityReport(Document):
    """The report document (written as _fidelity/report.json): the fields in the order
    of its keys. ``reference`` and ``learnability`` come from later stages."""

    OMIT_WHEN_NONE: ClassVar[frozenset[str]] = frozenset({"reference", "learnability"})

    format: int
    generator: str
    version: str
    dataset: str
    spec_sha256: str
    seed: int
    created_at: str
    passed: bool
    summary: Summary
    fraud_counts: FraudCounts
    issues: tuple[str, ...]
    leakage: LeakageSection
    busy_seconds: float
    tests: tuple[Verdict, ...]
    series: Series
    reference: ReferenceSection | None = None
    learnability: LearnabilitySection | None = None

    def failed(self) -> tuple[Verdict, ...]:
        """The failing tests, in the report's order."""
        return tuple(test for test in self.tests if not test.passed)


_LEAKAGE: TypeAdapter[LeakageSection] = TypeAdapter(LeakageSection)
_LEARNABILITY: TypeAdapter[LearnabilitySection] = TypeAdapter(LearnabilitySection)


def leakage_section(section: Mapping[str, Any]) -> LeakageSection:
    """The typed leakage section of the audit's dict (validate/leakage.py)."""
    return _LEAKAGE.validate_python(section)


def learnability_section(section: Mapping[str, Any]) -> LearnabilitySection:
    """The typed learnability section of the learners' dict (validate/learnability.py)."""
    return _LEARNABILITY.validate_python(section)


def report_json(report: FidelityReport) -> str:
    """report.json's text. ``json.dumps`` of the Python dump, not pydantic's JSON: its
    float formatting (``1e-05``, not ``1e-5``) and escapes are what the report has always
    had."""
    return json.dumps(report.model_dump(), indent=REPORT_INDENT) + "\n"


def load_report(text: str | bytes) -> FidelityReport:
    """A report read back from report.json's text."""
    return FidelityReport.model_validate_json(text)
