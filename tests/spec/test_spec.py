"""The spec models: defaults resolve, bad documents are rejected with a one-line message
naming the field, and --set overrides behave like the file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import DEFAULT_SPEC, small_document

from synthpipe.errors import SpecError
from synthpipe.spec import data_hash, load_spec, spec_from_dict
from synthpipe.spec.loader import parse_override, read_spec_document, set_dotted


def test_minimal_spec_gets_the_default_world() -> None:
    spec = spec_from_dict({"seed": 1, "calendar": {"start": "2024-01-01", "end": "2024-06-30"}})
    assert spec.customers.locales == {"en_US": 0.85, "es_MX": 0.15}
    assert spec.customers.signup_end == dt.date(2024, 6, 30)
    assert spec.customers.signup_start == dt.date(2024, 1, 1) - dt.timedelta(days=5 * 365)
    assert len(spec.products.categories) >= 10
    assert all(c.subcategories for c in spec.products.categories)
    assert spec.fraud.shares()["card_testing"] == pytest.approx(0.3)


def test_default_config_file_is_valid() -> None:
    spec = load_spec(DEFAULT_SPEC)
    assert spec.customers.count == 200_000
    assert spec.output.path == "./out/retail"


# (document change as dotted path -> value, fragment the message must contain)
REJECTED: list[tuple[dict[str, Any], str]] = [
    ({"fraud.rate": 2}, "`fraud.rate` must be at most 0.5, got 2"),
    ({"fraud.rate": -0.1}, "`fraud.rate` must be at least 0"),
    ({"fraud.rat": 0.1}, "`fraud.rat` is not a known field (did you mean `rate`?)"),
    ({"seed": -5}, "`seed` must be at least 0"),
    ({"seed": "abc"}, "`seed`"),
    ({"calendar.end": "2023-01-01"}, "`calendar.end` (2023-01-01) must not be before"),
    ({"calendar.start": "not a date"}, "`calendar.start`"),
    ({"calendar.start": "1999-12-31"}, "`calendar.start` must be between 2000-01-01"),
    ({"calendar.country": "XX"}, "`calendar.country` must be one of"),
    ({"customers.count": 0}, "`customers.count` must be at least 1"),
    ({"customers.count": "many"}, "`customers.count`"),
    ({"customers.block_size": 10}, "`customers.block_size` must be at least 1000"),
    ({"customers.locales": {"xx_YY": 1}}, "`customers.locales` unknown Faker locale 'xx_YY'"),
    ({"customers.gender": {"female": 0, "male": 0}}, "`customers.gender` must contain"),
    ({"customers.age_pyramid": []}, "`customers.age_pyramid` must have at least one band"),
    (
        {
            "customers.age_pyramid": [
                {"min": 18, "max": 40, "weight": 1},
                {"min": 30, "max": 50, "weight": 1},
            ]
        },
        "bands 18-40 and 30-50 overlap",
    ),
    (
        {"customers.signup_end": "2010-01-01"},
        "`customers.signup_end` (2010-01-01) must not be before",
    ),
    ({"products.count": 3}, "`products.count` must be at least the number of categories"),
    ({"products.categories": []}, "`products.categories` must not be empty"),
    ({"sales.weekday": [1, 2, 3]}, "`sales.weekday` must have exactly 7 values, got 3"),
    ({"sales.monthly": [0] * 12}, "`sales.monthly` must contain at least one positive value"),
    ({"sales.channels.in_store.hours": [-1] + [1] * 23}, "must not contain negative values"),
    (
        {"sales.promotions": [{"name": "x", "start": "13-40", "end": "12-01", "discount": 0.1}]},
        "`sales.promotions.0.start` is not a valid month-day",
    ),
    ({"sales.events.back_to_school.categories": ["Nope"]}, "names the unknown category 'Nope'"),
    (
        {"fraud.types.account_takeover.categories": ["Jewels"]},
        "`fraud.types.account_takeover.categories`",
    ),
    (
        {
            "fraud.types.card_testing.share": 0,
            "fraud.types.account_takeover.share": 0,
            "fraud.types.stolen_card.share": 0,
            "fraud.types.refund_abuse.share": 0,
            "fraud.types.fraud_ring.share": 0,
        },
        "`fraud.types` must give at least one type a positive share",
    ),
    ({"fraud.difficulty": 1.5}, "`fraud.difficulty` must be at most 1"),
    (
        {"fraud.drift": [{"start": "2025-06-01"}]},
        "`fraud.drift.0.start` (2025-06-01) must be inside",
    ),
    (
        {"fraud.drift": [{"start": "2024-03-01"}, {"start": "2024-02-01"}]},
        "`fraud.drift.1.start` (2024-02-01) must be after",
    ),
    ({"fraud.drift": [{"start": "2024-02-01", "difficulty": -0.1}]}, "`fraud.drift.0.difficulty`"),
    (
        {"fraud.drift": [{"start": "2024-02-01", "shares": {"phishing": 1}}]},
        "`fraud.drift.0.shares` names the unknown fraud type 'phishing'",
    ),
    (
        {"fraud.types.card_testing.quantity_factor": -0.5},
        "`fraud.types.card_testing.quantity_factor` must be at least 0",
    ),
    (
        {"fraud.types.refund_abuse.quantity_factor": 21},
        "`fraud.types.refund_abuse.quantity_factor` must be at most 20",
    ),
    (
        {"fraud.types.card_testing.cheapest_share": 0},
        "`fraud.types.card_testing.cheapest_share` must be greater than 0",
    ),
    (
        {"fraud.types.account_takeover.priciest_share": 1.5},
        "`fraud.types.account_takeover.priciest_share` must be at most 1",
    ),
    ({"fraud.types.stolen_card.categories": []}, "`fraud.types.stolen_card.categories`"),
    (
        {"fraud.types.refund_abuse.categories": ["Phones"]},
        "`fraud.types.refund_abuse.categories` names the unknown category 'Phones'",
    ),
    ({"sales.habits.repeat_same_day": 1.2}, "`sales.habits.repeat_same_day` must be at most 1"),
    ({"sales.habits.repeat_gap_minutes": 0}, "`sales.habits.repeat_gap_minutes`"),
    ({"sales.habits.splurge_extra_lines": -1}, "`sales.habits.splurge_extra_lines`"),
    ({"output.compression": "bzip9"}, "`output.compression`"),
    ({"output.path": "  "}, "`output.path` must not be empty"),
    ({"extra": 1}, "`extra` is not a known field"),
]


@pytest.mark.parametrize(("change", "fragment"), REJECTED, ids=[f for _, f in REJECTED])
def test_bad_documents_are_rejected_with_the_field_named(
    change: dict[str, Any], fragment: str
) -> None:
    document = small_document()
    for key, value in change.items():
        set_dotted(document, key, value)
    with pytest.raises(SpecError) as caught:
        spec_from_dict(document)
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message


def test_missing_required_fields_are_named() -> None:
    with pytest.raises(SpecError, match=r"^`calendar` is required$"):
        spec_from_dict({"seed": 1})
    with pytest.raises(SpecError, match=r"^`seed` is required$"):
        spec_from_dict({"calendar": {"start": "2024-01-01", "end": "2024-02-01"}})


def test_overrides_parse_values_as_yaml(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(small_document()))
    spec = load_spec(path, ["customers.count=5000", "calendar.end=2024-02-29", "fraud.rate=0.02"])
    assert spec.customers.count == 5000
    assert spec.calendar.end == dt.date(2024, 2, 29)
    assert spec.fraud.rate == 0.02
    spec = load_spec(
        path, ["sales.weekday=[1, 1, 1, 1, 1, 1, 1]", "products.categories.0.demand=0.5"]
    )
    assert spec.sales.weekday == [1.0] * 7
    assert spec.products.categories[0].demand == 0.5


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("customers.count", "--set expects KEY=VALUE"),
        ("=5", "--set expects KEY=VALUE"),
        ("customers..count=5", "is not a dotted field path"),
        ("customers.count=[1, 2", "is not valid YAML"),
        ("products.categories.99.demand=1", "needs a list index below"),
        ("customers.count=-3", "`customers.count` must be at least 1, got -3"),
    ],
)
def test_bad_overrides_are_rejected(tmp_path: Path, override: str, fragment: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(small_document()))
    with pytest.raises(SpecError, match=None) as caught:
        load_spec(path, [override])
    assert fragment in str(caught.value)


def test_unreadable_spec_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="does not exist"):
        load_spec(tmp_path / "missing.yaml")
    with pytest.raises(SpecError, match="is not a file"):
        load_spec(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: [1\n")
    with pytest.raises(SpecError, match="is not valid YAML at line"):
        load_spec(bad)
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(SpecError, match="must be a YAML mapping, got list"):
        load_spec(bad)
    bad.write_text("")
    with pytest.raises(SpecError, match="is empty"):
        load_spec(bad)


def test_parse_override_keeps_strings_and_numbers() -> None:
    assert parse_override("a.b=3") == ("a.b", 3)
    assert parse_override("a=hello") == ("a", "hello")
    # dates stay text for the spec's validation, which names the field of an impossible one
    assert parse_override("a=2024-01-31") == ("a", "2024-01-31")
    assert parse_override("a=2024-13-01") == ("a", "2024-13-01")


def test_data_hash_ignores_where_the_data_goes() -> None:
    base = spec_from_dict(small_document())
    moved = spec_from_dict(small_document(**{"output.path": "s3://bucket/x"}))
    changed = spec_from_dict(small_document(seed=12))
    assert data_hash(base) == data_hash(moved)
    assert data_hash(base) != data_hash(changed)


def test_a_validated_spec_is_frozen_so_its_remembered_hashes_stay_true() -> None:
    from pydantic import ValidationError

    from synthpipe.spec import world_hash
    from synthpipe.spec.loader import spec_document

    spec = spec_from_dict(small_document())
    first = data_hash(spec), world_hash(spec)
    with pytest.raises(ValidationError, match="frozen"):
        spec.seed = 99
    with pytest.raises(ValidationError, match="frozen"):
        spec.customers.count = 5
    # the remembered values are those of a fresh, equal spec; defaults resolved during
    # validation (locales, signup window) are part of the frozen spec
    twin = spec_from_dict(spec_document(spec))
    assert (data_hash(twin), world_hash(twin)) == first
    assert spec.customers.locales
    assert spec.customers.signup_start is not None
    # a different spec, even one made after the first is gone, gets its own hashes
    del spec
    other = spec_from_dict(small_document(seed=12))
    assert data_hash(other) != first[0]


def _alias_bomb(levels: int) -> str:
    """A YAML document whose aliases expand to 9 ** levels values."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]")
    return "{" + ", ".join(lines) + "}"


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        (f"customers.count={_alias_bomb(9)}", "holds more than 100,000 values"),
        ("customers.count=&a [*a]", "`customers.count.0` contains itself"),
        ("sales.weekday=" + "[" * 80 + "]" * 80, "nests deeper than 64 levels"),
    ],
)
def test_hostile_overrides_are_refused_at_once_naming_the_field(
    tmp_path: Path, override: str, fragment: str
) -> None:
    """Before this check, nine alias levels took 43 s and 4.5 GB; the walk is linear in
    the document as parsed, so it answers in milliseconds (the test would time out)."""
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(small_document()))
    with pytest.raises(SpecError) as caught:
        load_spec(path, [override])
    assert fragment in str(caught.value)
    assert len(str(caught.value)) < 200  # the expanded value is never echoed


def test_hostile_spec_files_are_refused_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("seed: &a [*a]\ncalendar: {start: 2024-01-01, end: 2024-01-31}\n")
    with pytest.raises(SpecError, match=r"`seed\.0` contains itself"):
        load_spec(path)
    huge = ", ".join(["1"] * 150_000)
    path.write_text(
        f"seed: 1\ncalendar: {{start: 2024-01-01, end: 2024-01-31}}\nsales: {{weekday: [{huge}]}}\n"
    )
    with pytest.raises(SpecError, match=r"`sales\.weekday` holds more than 100,000 values"):
        load_spec(path)


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("fraud.types.card_testing.report_rate=1.5", "`fraud.types.card_testing.report_rate`"),
        ("fraud.types.stolen_card.report_delay.median_days=0", "report_delay.median_days"),
        ("fraud.types.refund_abuse.report_delay.sigma=-1", "report_delay.sigma"),
        ("fraud.friendly_rate=0.5", "`fraud.friendly_rate` must be at most 0.05"),
        ("fraud.friendly_delay.median_days=1000", "`fraud.friendly_delay.median_days`"),
    ],
)
def test_label_parameters_out_of_range_name_the_field(
    tmp_path: Path, override: str, fragment: str
) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(small_document()))
    with pytest.raises(SpecError) as caught:
        load_spec(path, [override])
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "seed: 1\ncalendar: {start: 2024-01-01, end: 2024-01-31}\nseed: 2\n",
            "at line 3, column 1: duplicate key `seed` (first given at line 1)",
        ),
        (
            "seed: 1\ncalendar:\n  start: 2024-01-01\n  end: 2024-01-31\n  start: 2024-02-01\n",
            "at line 5, column 3: duplicate key `calendar.start` (first given at line 3)",
        ),
        (
            "seed: 1\ncalendar: {start: 2024-01-01, end: 2024-01-31}\n"
            "fraud: {types: {stolen_card: {report_rate: 0.5, 'report_rate': 0.6}}}\n",
            "at line 3, column 49: duplicate key `fraud.types.stolen_card.report_rate`"
            " (first given at line 3)",
        ),
    ],
    ids=["top-level", "nested", "quoted-twin"],
)
def test_a_key_given_twice_is_refused_naming_it_and_its_line(
    tmp_path: Path, text: str, fragment: str
) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    message = str(caught.value)
    assert message == f"spec file {str(path)!r} is not valid YAML {fragment}"
    assert "\n" not in message


def test_merge_keys_may_still_be_overridden_and_aliases_shared(tmp_path: Path) -> None:
    """`<<: *base` then a key of the mapping's own is YAML's override, not a duplicate; a
    mapping reached twice through an alias is one mapping, not two with equal keys."""
    path = tmp_path / "spec.yaml"
    path.write_text(
        "seed: 1\n"
        "base: &base {start: 2024-01-01, end: 2024-03-31}\n"
        "calendar:\n  <<: *base\n  end: 2024-01-31\n"
        "again: *base\n"
    )
    raw = read_spec_document(path)
    assert raw["calendar"] == {"start": "2024-01-01", "end": "2024-01-31"}
    assert raw["again"] is raw["base"]
    assert raw["base"] == {"start": "2024-01-01", "end": "2024-03-31"}


def test_a_key_given_twice_in_a_set_value_is_refused() -> None:
    with pytest.raises(SpecError, match=r"--set sales\.weekday: value .* is not valid YAML"):
        parse_override("sales.weekday={a: 1, a: 2}")
