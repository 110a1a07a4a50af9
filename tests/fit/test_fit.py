"""`synthpipe fit`: parameters recovered from a sample of a world whose spec is known,
intervals that cover them, privacy (no value of the sample's ids or text in the outputs,
small groups suppressed) and bad samples refused with exit 2 naming the problem."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
import pyarrow.dataset as ds
import pytest
from helpers import build, small_spec

from synthpipe.cli import EXIT_BAD_INPUT, EXIT_OK, main
from synthpipe.clock import DAYS_PER_YEAR, NIGHT_END_HOUR
from synthpipe.fit.estimators import (
    day_moments,
    fit_pareto_nbd,
    pareto_nbd_log_likelihood,
    undo_day_merging,
    without_night_shopping,
)
from synthpipe.fit.seasonal import SeasonalSeen, seasonal_log_likelihood
from synthpipe.model.blockmonth import cached_day_factors
from synthpipe.model.products import product_world
from synthpipe.spec import Spec, spec_from_dict

MAPPING = [
    "--map=customer_id=cust",
    "--map=ts=when",
    "--map=amount=total",
    "--map=items=n",
    "--map=channel=chan",
    "--map=payment_method=pay",
    "--map=is_fraud=fraud",
    "--map=fraud_type=scheme",
]
WITH_CUSTOMERS = [*MAPPING, "--map=signup_date=joined", "--map=age=age_years", "--map=gender=sex"]


def _world() -> Spec:
    """A year with no holidays, events, staples or planted pairs: every parameter the fit
    estimates has a clean reading."""
    return small_spec(
        seed=1,
        calendar__end="2024-12-31",
        customers__count=4_000,
        customers__block_size=4_000,
        customers__signup_end="2023-12-31",
        sales__holidays__default=1.0,
        sales__holidays__overrides={},
        sales__holidays__stores_closed=[],
        sales__replenishment__share=0.0,
        sales__events__black_friday=1.0,
        sales__events__cyber_monday_online=1.0,
        fraud__rate=0.01,
        # a ring's orders come from a handful of accounts, fewer than the fit reports a
        # cell for (its privacy floor): its share would read 0, so this world has none
        fraud__types__fraud_ring__share=0.0,
    )


def _sample(out: Path, target: Path, prefix: str = "C-", customers: bool = False) -> int:
    """The world's transactions as a CSV in the user's own column names (with the
    customer's signup date, age and gender as ``joined``, ``age_years`` and ``sex`` when
    ``customers``)."""
    t = ds.dataset(out / "transactions", format="parquet", partitioning="hive").to_table()
    if customers:
        people = ds.dataset(out / "customers", format="parquet", partitioning="hive")
        columns = ["customer_id", "signup_date", "age", "gender"]
        t = t.join(people.to_table(columns=columns), "customer_id")
    ids = pc.binary_join_element_wise(prefix, pc.cast(t.column("customer_id"), pa.string()), "")
    table = pa.table(
        {
            "cust": ids,
            "when": t.column("ts"),
            "total": pc.cast(t.column("amount"), pa.float64()),
            "n": t.column("items"),
            "chan": pc.cast(t.column("channel"), pa.string()),
            "pay": pc.cast(t.column("payment_method"), pa.string()),
            "fraud": t.column("is_fraud"),
            "scheme": pc.cast(t.column("fraud_type"), pa.string()),
        }
    )
    if customers:
        table = table.append_column("joined", t.column("signup_date"))
        table = table.append_column("age_years", t.column("age"))
        table = table.append_column("sex", pc.cast(t.column("gender"), pa.string()))
    pv.write_csv(table, target)
    return table.num_rows


# what the user of _world's sample knows and says with --set: no holidays or events, no
# staples (the estimators then divide out none of their uplifts)
KNOWN = [
    "--set=sales.holidays.default=1.0",
    "--set=sales.holidays.overrides={}",
    "--set=sales.holidays.stores_closed=[]",
    "--set=sales.events.black_friday=1.0",
    "--set=sales.events.cyber_monday_online=1.0",
    "--set=sales.replenishment.share=0.0",
]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Spec, dict[str, object], Path]:
    """The world, its fit report and the folder of the fit's outputs."""
    root = tmp_path_factory.mktemp("fit")
    spec = _world()
    build(spec, root / "data", validate=False)
    _sample(root / "data", root / "sample.csv", customers=True)
    code = main(
        [
            "fit",
            str(root / "sample.csv"),
            *WITH_CUSTOMERS,
            *KNOWN,
            "--out",
            str(root / "fitted.yaml"),
        ]
    )
    assert code == EXIT_OK
    report = json.loads((root / "fitted.fit.json").read_text())
    return spec, report, root


def _estimate(report: dict[str, object], field: str) -> dict[str, object]:
    found = [e for e in report["estimates"] if e["field"] == field]  # type: ignore[attr-defined]
    assert found, field
    return found[0]  # type: ignore[no-any-return]


def _covers(low: object, high: object, truth: float) -> bool:
    return float(low) <= truth <= float(high)  # type: ignore[arg-type]


def test_the_fitted_spec_is_valid_and_complete(
    fitted: tuple[Spec, dict[str, object], Path],
) -> None:
    _, report, root = fitted
    import yaml

    document = yaml.safe_load((root / "fitted.yaml").read_text())
    spec = spec_from_dict(document)
    assert str(spec.calendar.start) == "2024-01-01"
    assert str(spec.calendar.end) == "2024-12-31"
    assert (root / "fitted.fit.html").read_text().startswith("<!doctype html>")
    assert "customers.changes" in report["defaults"]  # type: ignore[operator]
    assert spec.sales.holidays.default == 1.0  # --set wins over the defaults
    growth = _estimate(report, "customers.signup_growth")
    assert "from signup" in str(growth["method"])
    assert str(spec.customers.signup_start) == "2021-01-01"  # the earliest signup's month


def lifecycle_truth(spec: Spec) -> dict[str, float]:
    """The spec's values of the fields the lifecycle from signup estimates."""
    return {
        "sales.visits_per_year": spec.sales.visits_per_year,
        "customers.activity_shape": spec.customers.activity_shape,
        "customers.lifetime.dropout_shape": spec.customers.lifetime.dropout_shape,
        "customers.lifetime.dropout_per_year": spec.customers.lifetime.dropout_per_year,
        "customers.signup_growth": spec.customers.signup_growth,
        "customers.count": spec.customers.count,
    }


def _cells_covered(report: dict[str, object], field: str, truth: list[float]) -> int:
    """How many cells of a fitted profile cover the spec's profile (scaled to mean 1)."""
    found = _estimate(report, field)
    scaled = np.asarray(truth) / np.mean(truth)
    return sum(
        _covers(lo, hi, t)
        for lo, hi, t in zip(found["low"], found["high"], scaled, strict=True)  # type: ignore[call-overload]
    )


def test_intervals_cover_the_known_parameters(
    fitted: tuple[Spec, dict[str, object], Path],
) -> None:
    spec, report, _ = fitted
    online = _estimate(report, "sales.channels.online_share")
    assert _covers(online["low"], online["high"], spec.sales.channels.online_share)
    fraud = _estimate(report, "fraud.rate")
    assert _covers(fraud["low"], fraud["high"], spec.fraud.rate)
    returns = _estimate(report, "sales.return_rate")
    assert _covers(returns["low"], returns["high"], spec.sales.return_rate)
    for channel in ("in_store", "online"):
        mix = _estimate(report, f"sales.channels.{channel}.payment")
        truth = getattr(spec.sales.channels, channel).payment
        total = sum(truth.values())
        covered = [
            _covers(mix["low"][k], mix["high"][k], v / total)  # type: ignore[index]
            for k, v in truth.items()
        ]
        assert sum(covered) >= len(covered) - 1, (channel, mix, truth)
    assert _cells_covered(report, "sales.weekday", spec.sales.weekday) >= 6
    basket = _estimate(report, "sales.basket_mean_items")
    assert abs(float(basket["estimate"]) / spec.sales.basket_mean_items - 1) < 0.05  # type: ignore[arg-type]
    # the lifecycle from signup (survivors and customers never seen are in the likelihood):
    # six 95% intervals of one seed, so one may miss (test_recovery counts over 20 seeds)
    lifecycle = lifecycle_truth(spec)
    for name, share in spec.fraud.shares().items():
        mix = _estimate(report, f"fraud.types.{name}.share")
        assert _covers(mix["low"], mix["high"], share), (name, mix, share)
    # the customers' mixes: each share within 4 binomial deviations of the customers seen
    seen = int(report["sample"]["customers"])  # type: ignore[index]
    genders = spec.customers.gender
    bands = spec.customers.age_pyramid
    mix = {f"customers.gender.{g}": w / sum(genders.values()) for g, w in genders.items()}
    mix |= {
        f"customers.age_pyramid.{i}.weight": b.weight / sum(b.weight for b in bands)
        for i, b in enumerate(bands)
    }
    for field, share in mix.items():
        estimate = float(_estimate(report, field)["estimate"])  # type: ignore[arg-type]
        assert abs(estimate - share) <= 4 * np.sqrt(share * (1 - share) / seen), (field, estimate)
    assert _cells_covered(report, "sales.monthly", spec.sales.monthly) >= 11
    found = {field: _estimate(report, field) for field in lifecycle}
    missed = [
        f for f, truth in lifecycle.items() if not _covers(found[f]["low"], found[f]["high"], truth)
    ]
    assert len(missed) <= 1, {f: found[f] for f in missed}


def test_no_value_of_the_sample_reaches_the_outputs(
    fitted: tuple[Spec, dict[str, object], Path],
) -> None:
    _, _, root = fitted
    ids = pv.read_csv(root / "sample.csv").column("cust").to_pylist()
    for name in ("fitted.yaml", "fitted.fit.json", "fitted.fit.html"):
        text = (root / name).read_text()
        assert not any(i in text for i in ids[:2_000]), name
        assert "C-" not in text


def test_labels_and_groups_below_min_customers_are_suppressed(tmp_path: Path) -> None:
    rows = 400
    table = pa.table(
        {
            "customer_id": [f"person-{i % 40}" for i in range(rows)],
            "ts": [f"2024-0{1 + i % 9}-1{i % 9} 1{i % 10}:00:00" for i in range(rows)],
            "amount": [10.0 + i % 7 for i in range(rows)],
            "channel": ["online" if i % 20 == 0 else "in_store" for i in range(rows)],
            # a label of the sample's own, and one of ours seen by few customers
            "payment_method": [
                "secret_voucher" if i % 2 else ("cash" if i < 4 else "credit_card")
                for i in range(rows)
            ],
            "is_fraud": [i % 3 == 0 for i in range(rows)],
            # a fraud type of the sample's own, and one of ours
            "fraud_type": [
                ("secret_scheme" if i % 20 == 0 else "stolen_card") if i % 3 == 0 else ""
                for i in range(rows)
            ],
        }
    )
    pv.write_csv(table, tmp_path / "s.csv")
    out = tmp_path / "f.yaml"
    assert main(["fit", str(tmp_path / "s.csv"), "--out", str(out), "--min-customers", "5"]) == 0
    report = json.loads((tmp_path / "f.fit.json").read_text())
    text = out.read_text() + (tmp_path / "f.fit.json").read_text()
    assert "secret_voucher" not in text
    assert "secret_scheme" not in text
    assert _estimate(report, "fraud.types.stolen_card.share")["estimate"] == 1.0
    assert _estimate(report, "fraud.types.card_testing.share")["estimate"] == 0.0
    assert "person-" not in text
    mix = _estimate(report, "sales.channels.in_store.payment")["estimate"]
    assert set(mix) == {"credit_card"}  # type: ignore[arg-type]
    # online has 2 customers (ids 0 and 20): its hours keep the default, and say so
    assert "sales.channels.online.hours" in report["defaults"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "is empty"),
        ([{"customer_id": "a", "amount": 1.0}], "no column 'ts'"),
        (
            [{"customer_id": c, "ts": "yesterday", "amount": 1.0} for c in "abcdefghijkl"],
            "not dates or times",
        ),
        (
            [
                {"customer_id": c, "ts": "2024-01-02", "amount": 1.0, "items": -1}
                for c in "abcdefghijkl"
            ],
            "'items' has negative counts",
        ),
        ([{"customer_id": "a", "ts": "2024-01-02", "amount": 1.0}] * 30, "a single customer"),
        (
            [
                {"customer_id": c, "ts": "2024-01-02", "amount": 1.0, "signup_date": s}
                for c, s in zip("abcdefghijkl", ["2023-05-01"] * 11 + [None], strict=True)
            ],
            "'signup_date' has empty values",
        ),
        (
            [
                {"customer_id": c, "ts": "2024-01-02", "amount": 1.0, "signup_date": s}
                for c, s in zip(
                    "abcdefghijkl", ["2023-05-01"] * 10 + ["2024-02-01"] * 2, strict=True
                )
            ],
            "'signup_date' is after the first purchase for 2 customers",
        ),
    ],
    ids=[
        "empty",
        "no-time",
        "bad-dates",
        "negative-items",
        "one-customer",
        "signup-empty",
        "signup-late",
    ],
)
def test_bad_samples_exit_2_naming_the_problem(
    tmp_path: Path, rows: list[dict[str, object]], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    if rows:
        pv.write_csv(pa.Table.from_pylist(rows), path)
    else:
        path.write_text("customer_id,ts,amount\n")
    assert main(["fit", str(path), "--out", str(tmp_path / "x.yaml")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "x.yaml").exists()


def test_the_lifecycle_is_recovered_when_customers_join_during_the_sample(
    tmp_path: Path,
) -> None:
    """Pareto/NBD dates a customer's birth at its first purchase: with signups inside the
    sample it recovers the purchase frequency and the dropout (a sample of long-standing
    customers holds only the survivors, whose dropout reads lower)."""
    world = _world()
    spec = world.model_copy(
        update={
            "customers": world.customers.model_copy(
                update={
                    "signup_start": dt.date(2024, 1, 1),
                    "signup_end": dt.date(2024, 3, 31),
                }
            )
        }
    )
    build(spec, tmp_path / "data", validate=False)
    _sample(tmp_path / "data", tmp_path / "s.csv")
    assert main(["fit", str(tmp_path / "s.csv"), *MAPPING, "--out", str(tmp_path / "f.yaml")]) == 0
    report = json.loads((tmp_path / "f.fit.json").read_text())
    visits = _estimate(report, "sales.visits_per_year")
    assert abs(float(visits["estimate"]) / spec.sales.visits_per_year - 1) < 0.06  # type: ignore[arg-type]
    rate = _estimate(report, "customers.lifetime.dropout_per_year")
    truth = spec.customers.lifetime.dropout_per_year
    assert abs(float(rate["estimate"]) / truth - 1) < 0.25  # type: ignore[arg-type]
    shape = _estimate(report, "customers.lifetime.dropout_shape")
    assert abs(float(shape["estimate"]) / spec.customers.lifetime.dropout_shape - 1) < 0.3, shape  # type: ignore[arg-type]
    # without signup dates the Pareto/NBD's values stand (the calibration on simulated
    # worlds brings this world no closer), and the signups are read from the first
    # purchases: they began in the sample's first months
    assert "first purchase" in str(shape["method"])
    signup_start = _estimate(report, "customers.signup_start")
    assert dt.date.fromisoformat(str(signup_start["estimate"])) >= dt.date(2023, 6, 1)


def _seasonal_sample(
    rng: np.random.Generator, n: int, truth: tuple[float, float, float, float], factors: np.ndarray
) -> dict[str, np.ndarray]:
    """Customers who signed up over the 3 years before a year's sample (and in its first
    half), buying on day d at Gamma(r, alpha) rates x ``factors[d]`` until Exponential(
    Gamma(s, beta)) dropout, in whole days as the generator does; what the sample shows of
    those who bought in it."""
    r, alpha, s, beta = truth
    rate, dropout = rng.gamma(r, 1 / alpha, n), rng.gamma(s, 1 / beta, n)
    signup = np.floor(rng.uniform(-3.0, 0.5, n) * DAYS_PER_YEAR).astype(np.int64)
    stop = signup + np.floor(rng.exponential(1 / dropout) * DAYS_PER_YEAR).astype(np.int64)
    day = np.arange(factors.shape[0])
    alive = (day[None, :] >= signup[:, None]) & (day[None, :] < stop[:, None])
    bought = (rng.poisson(rate[:, None] * factors[None, :] / DAYS_PER_YEAR) * alive) > 0
    seen = bought.any(axis=1)
    start = np.maximum(signup, 0)[seen]
    first = np.argmax(bought, axis=1)[seen]
    last = (factors.shape[0] - 1 - np.argmax(bought[:, ::-1], axis=1))[seen]
    return {
        "days": bought.sum(axis=1)[seen].astype(np.float64),
        "first": first,
        "last": last,
        "start": start,
        "before": np.maximum(-signup, 0)[seen],
    }


def test_the_seasonal_likelihood_recovers_a_left_truncated_pareto_nbd() -> None:
    """Simulated customers with the test world's seasons, a year watched after up to three
    unwatched: the seasonal likelihood with survival and being seen recovers the mean rate
    and the dropout; dating birth at the first purchase reads the survivors' lower dropout."""
    spec = _world()
    factors = cached_day_factors(spec, spec.calendar.start, spec.calendar.end).overall
    truth = (1.2, 1.2 / 16, 0.6, 1.0)  # r, alpha, s, beta: 16 purchases and 0.6 dropouts a year
    sample = _seasonal_sample(np.random.default_rng(5), 20_000, truth, factors)
    seen = float(sample["days"].shape[0])
    ones = np.ones(sample["days"].shape[0])
    histories = SeasonalSeen.of(
        sample["days"],
        sample["last"] - sample["start"],
        sample["start"],
        sample["before"],
        ones,
        factors,
    )
    r, alpha, s, beta = fit_pareto_nbd(lambda p: seasonal_log_likelihood(p, histories), seen)
    # ~10,000 customers seen: the mean rate to a few percent, the dropout to ~15%
    assert abs(r / alpha / 16 - 1) < 0.05, (r, alpha)
    assert abs(s / beta / 0.6 - 1) < 0.15, (s, beta)
    assert abs(s / 0.6 - 1) < 0.2, s
    year = DAYS_PER_YEAR
    end = factors.shape[0]
    naive = fit_pareto_nbd(
        lambda p: pareto_nbd_log_likelihood(
            p,
            sample["days"] - 1,
            (sample["last"] - sample["first"]) / year,
            (end - sample["first"]) / year,
            ones,
        ),
        seen,
    )
    assert naive[2] / naive[3] < 0.8 * 0.6  # the survivors' dropout, without the truncation


def test_fit_run_validate_reference_round_trip(
    fitted: tuple[Spec, dict[str, object], Path],
) -> None:
    """The recipe: fit, generate from the fitted spec, compare with the sample."""
    _, _, root = fitted
    import yaml

    document = yaml.safe_load((root / "fitted.yaml").read_text())
    document["customers"]["count"] = 2_000
    document["customers"]["block_size"] = 2_000
    out = root / "synthetic"
    build(spec_from_dict(document), out, validate=False)
    reference_map = [
        "--reference-map=ts=when",
        "--reference-map=amount=total",
        "--reference-map=items=n",
        "--reference-map=channel=chan",
        "--reference-map=payment_method=pay",
        "--reference-map=is_fraud=fraud",
    ]
    code = main(["validate", str(out), "--reference", str(root / "sample.csv"), *reference_map])
    report = json.loads((out / "_fidelity" / "report.json").read_text())
    reference = {t["name"]: t["value"] for t in report["tests"] if t["group"] == "reference"}
    assert reference["reference.column_shapes"] >= 0.9, reference
    assert reference["reference.column_pair_trends"] >= 0.9, reference
    shapes = {k: v for k, v in reference.items() if k.startswith("reference.shape_")}
    assert all(v >= 0.9 for v in shapes.values()), shapes
    assert code == EXIT_OK, reference


def test_epsilon_releases_counts_with_the_stated_budget(
    fitted: tuple[Spec, dict[str, object], Path],
) -> None:
    """Under --epsilon: OpenDP's releases sum to the budget asked, the lifecycle is not
    released, intervals are not bootstrapped; with a huge budget the counts are exact in
    effect, so the estimates meet the ordinary fit's."""
    _, report, root = fitted
    out = root / "private.yaml"
    args = ["fit", str(root / "sample.csv"), *MAPPING, "--out", str(out)]
    for _ in range(4):  # the noise differs each time: every draw must give a valid spec
        assert main([*args, "--epsilon", "0.5"]) == EXIT_OK
    private = json.loads((root / "private.fit.json").read_text())
    assert private["privacy"]["epsilon"] == 0.5
    assert abs(private["privacy"]["spent"] - 0.5) < 1e-9
    assert len(private["privacy"]["releases"]) == 5
    assert "not released" in private["defaults"]["sales.visits_per_year"]
    assert all(e["low"] is None for e in private["estimates"])
    spec_from_dict(__import__("yaml").safe_load(out.read_text()))  # valid
    assert main([*args, "--epsilon", "1e9"]) == EXIT_OK
    loose = json.loads((root / "private.fit.json").read_text())
    for field in ("sales.channels.online_share", "fraud.rate", "sales.basket_mean_items"):
        exact = float(_estimate(report, field)["estimate"])  # type: ignore[arg-type]
        noisy = float(_estimate(loose, field)["estimate"])  # type: ignore[arg-type]
        # the 64 transactions a customer may contribute: a sample's first rows
        assert abs(noisy - exact) <= 0.05 * exact, (field, noisy, exact)


def test_a_bad_epsilon_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fit", str(tmp_path / "x.csv"), "--epsilon", "0"]) == EXIT_BAD_INPUT
    assert "--epsilon" in capsys.readouterr().err


def test_prices_per_category_from_a_line_level_sample(tmp_path: Path) -> None:
    """A sample of lines with their category: each category's median list price comes
    back within the catalogue's own spread of the spec's (a full catalogue: with a few
    dozen products a category's line prices are those of its one or two most popular)."""
    base = _world()
    spec = base.model_copy(update={"products": base.products.model_copy(update={"count": 5_000})})
    build(spec, tmp_path / "data", validate=False)
    lines = ds.dataset(tmp_path / "data" / "line_items", partitioning="hive").to_table()
    txn = ds.dataset(tmp_path / "data" / "transactions", partitioning="hive").to_table()
    products = ds.dataset(tmp_path / "data" / "products").to_table()
    sales = txn.filter(
        pc.and_(pc.equal(txn.column("transaction_type"), "sale"), pc.invert(txn.column("is_fraud")))
    )
    joined = lines.join(
        sales.select(["transaction_id", "customer_id", "ts"]), "transaction_id", join_type="inner"
    )
    joined = joined.join(products.select(["product_id", "category"]), "product_id")
    sample = pa.table(
        {
            "customer_id": pc.cast(joined.column("customer_id"), pa.string()),
            "ts": joined.column("ts"),
            "amount": pc.cast(joined.column("net_amount"), pa.float64()),
            "items": pa.array(np.ones(joined.num_rows)),
            "category": pc.cast(joined.column("category"), pa.string()),
        }
    )
    pv.write_csv(sample, tmp_path / "lines.csv")
    out = tmp_path / "f.yaml"
    assert main(["fit", str(tmp_path / "lines.csv"), "--out", str(out)]) == EXIT_OK
    report = json.loads((tmp_path / "f.fit.json").read_text())
    world = product_world(spec)
    checked = 0
    for k, category in enumerate(spec.products.categories):
        field = f"products.categories.{k}.price.median"
        found = [e for e in report["estimates"] if e["field"] == field]
        if category.price.values or not found:
            continue
        ratio = float(found[0]["estimate"]) / category.price.median
        # the drawn catalogue's line-weighted mean price varies around the population's by
        # sqrt(e^(sigma^2) - 1) x sqrt(sum of squared popularity shares)
        popularity = world.popularity[world.category == k]
        shares = popularity / popularity.sum()
        spread = np.sqrt(np.expm1(category.price.sigma**2) * float((shares**2).sum()))
        assert abs(np.log(ratio)) <= 4 * spread + 0.05, (category.name, ratio, spread)
        checked += 1
    assert checked >= 8
    assert "price scale" not in {e["method"] for e in report["estimates"]}


def test_night_shopping_is_taken_out_of_the_online_hours() -> None:
    """The online hours a sample shows are (1 - night) x the profile + night x uniform over
    the first NIGHT_END_HOUR hours; taking the night out gives the profile back."""
    profile = np.asarray(_world().sales.channels.online.hours)
    night = 0.05
    shown = (1 - night) * profile / profile.sum()
    shown[:NIGHT_END_HOUR] += night / NIGHT_END_HOUR
    recovered = without_night_shopping(shown * 12_345.0, night)
    np.testing.assert_allclose(recovered / recovered.sum(), profile / profile.sum(), rtol=1e-12)


def test_merged_purchase_days_are_turned_back_into_visit_rates() -> None:
    """Visits at Gamma(1.2, 1.2/40) a year with the test world's seasons, merged into
    purchase days (a day's visits count once), read as a Gamma of Poisson day counts with
    the same first two factorial moments; undoing the merge gives the visit Gamma back."""
    spec = _world()
    step = cached_day_factors(spec, spec.calendar.start, spec.calendar.end).overall / DAYS_PER_YEAR
    r, alpha = 1.2, 1.2 / 40.0
    first, second = day_moments(r, alpha, step)
    exposure = float(step.sum())
    merged_r = first**2 / (second - first**2)
    merged_alpha = merged_r * exposure / first
    assert first < r / alpha * exposure  # merging loses days
    assert merged_r > r  # and makes the rates look less spread
    back = undo_day_merging(merged_r, merged_alpha, step)
    np.testing.assert_allclose(back, (r, alpha), rtol=1e-6)
