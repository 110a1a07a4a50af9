"""Statistical tests: a generated sample recovers the parameters of its spec.

Expectations here are computed independently of synthpipe's own validator, from the spec
numbers and the documented formulas; tolerances are Z standard errors of the statistic at
the sample's size (binomial or Poisson), never guessed constants.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from scipy import stats

from synthpipe.model.customer_tables import generate_customers
from synthpipe.model.money import decimal_to_cents
from synthpipe.model.products import generate_products
from synthpipe.model.stores import generate_stores
from synthpipe.model.transactions import generate_sales
from synthpipe.plan import make_plan
from synthpipe.spec import Spec, spec_from_dict
from synthpipe.spec.defaults import CATEGORIES
from synthpipe.vocabulary import FRAUD_TYPES, GENDERS

Z = 5.0  # standard errors: a correct generator fails one of these ~1e-6 of the time
FLAT = [1.0] * 12
SEED = 321


# the legitimate look-alikes of fraud, off: each is measured in tests/model/test_habits.py
NO_HABITS = {"repeat_same_day": 0.0, "night_online": 0.0, "gift_shipping": 0.0, "splurge": 0.0}


def plain_world(**changes: object) -> dict[str, object]:
    """A world where one effect at a time can be measured: no trend, no holidays, no
    events, no promotions, every customer signed up before the calendar starts."""
    categories = [
        dict(c, seasonality=FLAT, gender_affinity={}, age_affinity={}) for c in CATEGORIES
    ]
    document: dict[str, object] = {
        "seed": SEED,
        "calendar": {"start": "2023-01-01", "end": "2023-12-31"},
        "customers": {
            "count": 24_000,
            "block_size": 12_000,
            "signup_start": "2015-01-01",
            "signup_end": "2022-12-31",
            "lifetime": {"dropout_per_year": 0.0},  # measured in tests/model/test_lifecycle.py
            # nobody changes: measured in tests/model/test_changes.py
            "changes": {
                "move_rate": 0.0,
                "income_change_rate": 0.0,
                "loyalty_join_rate": 0.0,
                "loyalty_leave_rate": 0.0,
                "email_change_rate": 0.0,
            },
        },
        # planted complements add lines: measured in tests/model/test_associations.py
        "products": {"count": 2_000, "categories": categories, "complements": {"pairs": 0}},
        "stores": {"count": 60, "new_store_share": 0.0},
        "sales": {
            "trend": 0.0,
            "monthly": FLAT,
            "holidays": {"default": 1.0, "overrides": {}, "stores_closed": []},
            "events": {
                "black_friday": 1.0,
                "cyber_monday_online": 1.0,
                "christmas_peak": 1.0,
                "back_to_school": {"overall": 1.0, "category_uplift": 1.0},
            },
            "promotions": [],
            "habits": NO_HABITS,
            "replenishment": {"share": 0.0},  # measured in tests/model/test_replenishment.py
        },
        "fraud": {"rate": 0.01},
    }
    for key, value in changes.items():
        node = document
        parts = key.split("__")
        for part in parts[:-1]:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[parts[-1]] = value  # type: ignore[index]
    return document


@dataclass(frozen=True)
class Sample:
    """A whole generated world, in memory."""

    spec: Spec
    customers: pa.Table
    products: pa.Table
    stores: pa.Table
    transactions: pa.Table
    lines: pa.Table


def generate(document: dict[str, object]) -> Sample:
    spec = spec_from_dict(document)
    tasks = make_plan(spec)
    customers = pa.concat_tables(
        [generate_customers(spec, t.block) for t in tasks if t.kind == "customers"]
    )
    sales = [generate_sales(spec, t.block, *t.day_range()) for t in tasks if t.kind == "sales"]
    return Sample(
        spec,
        customers,
        generate_products(spec),
        generate_stores(spec),
        pa.concat_tables([s.transactions for s in sales]),
        pa.concat_tables([s.line_items for s in sales]),
    )


@pytest.fixture(scope="module")
def plain() -> Sample:
    return generate(plain_world())


@pytest.fixture(scope="module")
def seasonal() -> Sample:
    """Weekday flat, the default monthly profile, default category seasonality, holidays."""
    document = plain_world(
        sales__weekday=[1.0] * 7,
        sales__monthly=[0.90, 0.88, 0.97, 0.98, 1.02, 1.00, 1.00, 1.03, 0.96, 0.99, 1.05, 1.12],
        sales__holidays={"default": 0.5, "overrides": {}, "stores_closed": []},
    )
    document["products"] = {"count": 2_000}  # default categories: seasonality and affinities
    return generate(document)


def legit_sales(sample: Sample) -> pa.Table:
    t = sample.transactions
    return t.filter(
        pc.and_(pc.invert(t.column("is_fraud")), pc.equal(t.column("transaction_type"), "sale"))
    )


def days_of(table: pa.Table) -> np.ndarray:
    return table.column("ts").cast(pa.timestamp("us")).cast(pa.int64()).to_numpy() // 86_400_000_000


def assert_shares(observed_counts: np.ndarray, expected_weights: np.ndarray) -> None:
    """Every cell's share within Z binomial standard errors of its expected share."""
    n = observed_counts.sum()
    p = expected_weights / expected_weights.sum()
    error = np.abs(observed_counts / n - p)
    tolerance = Z * np.sqrt(p * (1 - p) / n)
    assert np.all(error <= tolerance), (observed_counts / n, p, tolerance)


def test_weekday_shares(plain: Sample) -> None:
    day = days_of(legit_sales(plain))
    weekday = (day + 3) % 7  # Monday = 0
    calendar = np.arange(np.datetime64("2023-01-01"), np.datetime64("2024-01-01")).astype(np.int64)
    days_per_weekday = np.bincount((calendar + 3) % 7, minlength=7)
    expected = days_per_weekday * np.asarray(plain.spec.sales.weekday)
    assert_shares(np.bincount(weekday, minlength=7), expected)


def mid_month_interpolation(monthly: list[float], day: dt.date) -> float:
    """The documented yearly profile: linear between values at the middle of each month,
    positions measured as fractions of the year (an independent implementation)."""
    values = np.asarray(monthly) / np.mean(monthly)
    year_days = 366 if day.year % 4 == 0 else 365
    position = (day.timetuple().tm_yday - 1) / year_days * 12 - 0.5
    below = math.floor(position)
    weight = position - below
    return float(values[below % 12] * (1 - weight) + values[(below + 1) % 12] * weight)


def test_month_shares(seasonal: Sample) -> None:
    legit = legit_sales(seasonal)
    months = np.asarray(pc.month(legit.column("ts")).to_numpy()) - 1
    monthly = seasonal.spec.sales.monthly
    expected = np.zeros(12)
    day = dt.date(2023, 1, 1)
    holidays = {d.isoformat() for d in _holiday_dates(seasonal)}
    while day.year == 2023:
        factor = mid_month_interpolation(monthly, day) * (
            0.5 if day.isoformat() in holidays else 1.0
        )
        expected[day.month - 1] += factor
        day += dt.timedelta(days=1)
    assert_shares(np.bincount(months, minlength=12), expected)


def _holiday_dates(sample: Sample) -> list[dt.date]:
    import holidays

    calendar = holidays.country_holidays("US", years=2023, language="en_US")
    return [d for d, name in calendar.items() if "(observed)" not in name]


def test_holiday_lift(seasonal: Sample) -> None:
    """On public holidays volume is the spec's multiplier (0.5) times the ordinary level."""
    legit = legit_sales(seasonal)
    day = days_of(legit)
    holiday_days = np.asarray([np.datetime64(d).astype(np.int64) for d in _holiday_dates(seasonal)])
    monthly = seasonal.spec.sales.monthly
    level = {
        int(np.datetime64(d, "D").astype(np.int64)): mid_month_interpolation(monthly, d)
        for d in (dt.date(2023, 1, 1) + dt.timedelta(days=i) for i in range(365))
    }
    on_holiday = np.isin(day, holiday_days)
    holiday_level = sum(level[int(d)] for d in holiday_days)
    other_level = sum(level.values()) - holiday_level
    ratio = (on_holiday.sum() / holiday_level) / ((~on_holiday).sum() / other_level)
    standard_error = ratio * math.sqrt(1 / on_holiday.sum() + 1 / (~on_holiday).sum())
    assert abs(ratio - 0.5) <= Z * standard_error, ratio


@pytest.mark.parametrize("channel", ["in_store", "online"])
def test_hour_profile(plain: Sample, channel: str) -> None:
    legit = legit_sales(plain)
    legit = legit.filter(pc.equal(legit.column("channel"), channel))
    hours = np.asarray(pc.hour(legit.column("ts")).to_numpy())
    profile = getattr(plain.spec.sales.channels, channel).hours
    assert_shares(np.bincount(hours, minlength=24), np.asarray(profile, dtype=float))


def test_fraud_rate_per_type(plain: Sample) -> None:
    t = plain.transactions
    n = t.num_rows
    fraud = plain.spec.fraud
    realised = {
        name: int(pc.sum(pc.equal(t.column("fraud_type"), name)).as_py() or 0)
        for name in FRAUD_TYPES
    }
    for name, share in fraud.shares().items():
        p = fraud.rate * share
        interval = stats.binomtest(realised[name], n).proportion_ci(confidence_level=1 - 1e-6)
        assert interval.low <= p <= interval.high, (name, realised[name] / n, p)


def test_age_pyramid(plain: Sample) -> None:
    ages = plain.customers.column("age").to_numpy()
    bands = plain.spec.customers.age_pyramid
    band = np.searchsorted([b.min for b in bands], ages, side="right") - 1
    assert np.all(ages >= bands[0].min)
    assert np.all(ages <= bands[-1].max)
    assert_shares(np.bincount(band, minlength=len(bands)), np.asarray([b.weight for b in bands]))


def test_income_median_by_age_band(plain: Sample) -> None:
    spec = plain.spec
    ages = plain.customers.column("age").to_numpy()
    income = plain.customers.column("income").to_numpy().astype(float)
    points = spec.customers.income.median_by_age
    segments = list(spec.customers.segments.values())
    shares = np.asarray([s.share for s in segments]) / sum(s.share for s in segments)
    sigma = spec.customers.income.sigma
    for band in spec.customers.age_pyramid:
        in_band = (ages >= band.min) & (ages <= band.max)
        band_ages = np.arange(band.min, band.max + 1)
        centres = [
            np.log(np.interp(a, list(points), list(points.values())) * s.income_factor)
            for a in band_ages
            for s in segments
        ]
        weights = np.repeat(1 / len(band_ages), len(band_ages) * len(segments)) * np.tile(
            shares, len(band_ages)
        )

        def cdf(
            log_x: float, centres: list[float] = centres, weights: np.ndarray = weights
        ) -> float:
            return float(np.sum(weights * stats.norm.cdf((log_x - np.asarray(centres)) / sigma)))

        expected = math.exp(_bisect(cdf, 0.5, 0.0, 20.0))
        observed = float(np.median(income[in_band]))
        n = int(in_band.sum())
        spread = sigma + float(np.std(centres))
        standard_error = 1.2533 * spread / math.sqrt(n)  # of the median, in log units
        assert abs(math.log(observed / expected)) <= Z * standard_error, (
            band.label,
            observed,
            expected,
        )


def _bisect(f: object, target: float, low: float, high: float) -> float:
    for _ in range(100):
        middle = (low + high) / 2
        if f(middle) < target:  # type: ignore[operator]
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _line_categories(sample: Sample, lines: pa.Table) -> np.ndarray:
    product_category = pc.dictionary_encode(sample.products.column("category").cast(pa.string()))
    names = [c.name for c in sample.spec.products.categories]
    codes = np.asarray([names.index(v) for v in product_category.to_pylist()])
    return codes[lines.column("product_id").to_numpy() - 1]


def _legit_sale_lines(sample: Sample) -> pa.Table:
    legit_ids = legit_sales(sample).column("transaction_id")
    return sample.lines.filter(pc.is_in(sample.lines.column("transaction_id"), legit_ids))


def test_category_mix(plain: Sample) -> None:
    """With flat seasonality and no affinities, the category of a line follows demand."""
    categories = _line_categories(plain, _legit_sale_lines(plain))
    demand = np.asarray([c.demand for c in plain.spec.products.categories])
    assert_shares(np.bincount(categories, minlength=demand.size), demand)


def test_toys_peak_in_december_and_garden_in_spring(seasonal: Sample) -> None:
    lines = _legit_sale_lines(seasonal)
    tx = legit_sales(seasonal)
    month_of = dict(
        zip(
            tx.column("transaction_id").to_pylist(),
            (pc.month(tx.column("ts")).to_numpy() - 1).tolist(),
            strict=True,
        )
    )
    month = np.asarray([month_of[i] for i in lines.column("transaction_id").to_pylist()])
    categories = _line_categories(seasonal, lines)
    names = [c.name for c in seasonal.spec.products.categories]

    def share(category: str, m: int) -> tuple[float, int]:
        in_month = month == m
        return float(np.mean(categories[in_month] == names.index(category))), int(in_month.sum())

    toys_dec, n_dec = share("Toys & Games", 11)
    toys_jun, n_jun = share("Toys & Games", 5)
    garden_may, n_may = share("Garden & Patio", 4)
    garden_nov, n_nov = share("Garden & Patio", 10)
    assert toys_dec > toys_jun + Z * math.sqrt(toys_dec / n_dec + toys_jun / n_jun)
    assert garden_may > garden_nov + Z * math.sqrt(garden_may / n_may + garden_nov / n_nov)
    # The December / June ratio of toy shares follows the seasonality numbers (3.1 vs 0.75
    # at mid-month) closely enough that it is far above 2.
    assert toys_dec / toys_jun > 2.0


def test_frequency_and_basket_follow_segments(plain: Sample) -> None:
    spec = plain.spec
    customers = plain.customers
    segment_of = np.asarray(customers.column("segment").cast(pa.string()).to_pylist())
    legit = legit_sales(plain)
    counts = np.bincount(legit.column("customer_id").to_numpy(), minlength=customers.num_rows + 1)[
        1:
    ]
    items = np.bincount(
        legit.column("customer_id").to_numpy(),
        weights=legit.column("items").to_numpy(),
        minlength=customers.num_rows + 1,
    )[1:]
    beta = spec.sales.income_elasticity
    expected_rate = {}
    for name, s in spec.customers.segments.items():
        expected_rate[name] = (
            s.frequency * s.income_factor**beta * (1 + spec.sales.loyalty_uplift * s.loyalty_rate)
        )
    names = list(spec.customers.segments)
    observed = {n: counts[segment_of == n].mean() for n in names}
    k = spec.customers.activity_shape
    for a in names:
        for b in names:
            if a >= b:
                continue
            ratio = observed[a] / observed[b]
            expected = expected_rate[a] / expected_rate[b]
            relative = math.sqrt(
                sum((1 / k + 1 / observed[n]) / (segment_of == n).sum() for n in (a, b))
            )
            assert abs(ratio / expected - 1) <= Z * relative, (a, b, ratio, expected)
    # Basket size: 1 + (mean - 1) x segment basket factor x channel factor on average.
    premium, budget = spec.customers.segments["premium"], spec.customers.segments["budget"]
    lines_premium = items[segment_of == "premium"].sum() / counts[segment_of == "premium"].sum()
    lines_budget = items[segment_of == "budget"].sum() / counts[segment_of == "budget"].sum()
    assert (lines_premium - 1) / (lines_budget - 1) == pytest.approx(
        premium.basket / budget.basket, rel=0.08
    )


def test_online_share_falls_with_age(plain: Sample) -> None:
    spec = plain.spec
    legit = legit_sales(plain)
    ages = plain.customers.column("age").to_numpy()
    age = ages[legit.column("customer_id").to_numpy() - 1]
    online = np.asarray(pc.equal(legit.column("channel"), "online").to_numpy(zero_copy_only=False))
    for band in spec.customers.age_pyramid:
        in_band = (age >= band.min) & (age <= band.max)
        p = min(
            0.95,
            spec.sales.channels.online_share * spec.sales.channels.online_age_factor[band.label],
        )
        n = int(in_band.sum())
        assert abs(online[in_band].mean() - p) <= Z * math.sqrt(p * (1 - p) / n) * 1.5, band.label


def test_in_store_purchases_mostly_in_the_home_region(plain: Sample) -> None:
    legit = legit_sales(plain)
    legit = legit.filter(pc.equal(legit.column("channel"), "in_store"))
    store_region = np.asarray(plain.stores.column("region").cast(pa.string()).to_pylist())
    home_region = np.asarray(plain.customers.column("region").cast(pa.string()).to_pylist())
    store = legit.column("store_id").to_numpy() - 1
    customer = legit.column("customer_id").to_numpy() - 1
    share_home = float(np.mean(store_region[store] == home_region[customer]))
    choice = plain.spec.sales.store_choice
    assert share_home >= choice.home + choice.region - 0.01


def test_amounts_are_line_sums_and_customers_buy_after_signup(plain: Sample) -> None:
    lines = plain.lines
    net = decimal_to_cents(lines.column("net_amount"))
    per_transaction: dict[int, int] = {}
    for tid, cents in zip(
        lines.column("transaction_id").to_numpy().tolist(), net.tolist(), strict=True
    ):
        per_transaction[tid] = per_transaction.get(tid, 0) + cents
    t = plain.transactions
    amounts = decimal_to_cents(t.column("amount"))
    assert all(
        per_transaction[i] == a
        for i, a in zip(t.column("transaction_id").to_pylist(), amounts.tolist(), strict=True)
    )
    signup = plain.customers.column("signup_date").cast(pa.int32()).to_numpy()
    day = days_of(t)
    assert np.all(day >= signup[t.column("customer_id").to_numpy() - 1])
    genders = set(plain.customers.column("gender").cast(pa.string()).to_pylist())
    assert genders <= set(GENDERS)


TOP_NAMES = 20  # names compared one by one; the rest are pooled into one cell


def test_names_follow_fakers_lists_and_weights(plain: Sample) -> None:
    """Locales mix as the spec says; en_US first names have the frequencies of Faker's
    weighted list; es_MX names come from es_MX's lists; e-mails are built from names."""
    from faker.providers.person.en_US import Provider as UnitedStates
    from faker.providers.person.es_MX import Provider as Mexico

    from synthpipe.model.pools import email_safe

    c = plain.customers
    locale = np.asarray(c.column("locale").cast(pa.string()).to_pylist())
    gender = np.asarray(c.column("gender").cast(pa.string()).to_pylist())
    first = np.asarray(c.column("first_name").cast(pa.string()).to_pylist())
    last = np.asarray(c.column("last_name").cast(pa.string()).to_pylist())
    weights = plain.spec.customers.locales or {}
    assert_shares(
        np.asarray([np.count_nonzero(locale == name) for name in weights]),
        np.asarray(list(weights.values())),
    )
    listed = UnitedStates.first_names_female
    top = sorted(listed, key=lambda name: -listed[name])[:TOP_NAMES]
    drawn = first[(locale == "en_US") & (gender == "female")]
    observed = np.asarray([np.count_nonzero(drawn == name) for name in top])
    expected = np.asarray([listed[name] for name in top])
    assert_shares(
        np.append(observed, drawn.shape[0] - observed.sum()),
        np.append(expected, sum(listed.values()) - expected.sum()),
    )
    mexican = locale == "es_MX"
    mexican_firsts = {*Mexico.first_names_female, *Mexico.first_names_male, *Mexico.first_names}
    assert set(first[mexican]) <= mexican_firsts
    assert set(last[mexican]) <= set(Mexico.last_names)
    emails = c.column("email").to_pylist()
    assert all(
        email_safe(f) in e.split("@")[0] or email_safe(s) in e.split("@")[0]
        for f, s, e in zip(first, last, emails, strict=True)
    )
