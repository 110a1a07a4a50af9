"""Customers: demographics, income, segment, place, signup, home store, names and e-mails.

Customers are generated in fixed blocks of ``customers.block_size`` ids; every column has
its own stream keyed by the block, so a block can be regenerated anywhere (the
transaction partitions regenerate the behavioural columns of their block instead of
receiving them), and asking for fewer columns never changes the others.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthpipe.clock import DAYS_PER_YEAR
from synthpipe.data.geography import load_geography
from synthpipe.model.cache import cached_per_spec
from synthpipe.model.geography import city_weights
from synthpipe.model.lifecycle import Returns, draw_returns, lifetimes
from synthpipe.model.pools import address_pool, name_pool, sample_counted
from synthpipe.model.sampling import categorical
from synthpipe.model.schema import CUSTOMERS_SCHEMA, dictionary_array
from synthpipe.model.stores import StoreWorld, store_world
from synthpipe.seeds import Entity, Stream, generator
from synthpipe.spec.models import Spec
from synthpipe.vocabulary import GENDERS

INCOME_REFERENCE_AGE = 45  # frequency scales with income relative to the median at this age
MAX_ONLINE_PROBABILITY = 0.95  # no customer is online-only or store-only by construction
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")  # RFC 2606 reserved domains
# E-mail local parts: first.last<id>, f<last><id>, first_last<id>, <last>.<first><id>.
EMAIL_PATTERNS = 4
BUILDING_NUMBER_MAX = 9_999
INITIAL_LENGTH = 1


@dataclass(frozen=True)
class CustomerBlock:
    """Behavioural attributes of one block of customers, as numpy arrays."""

    block: int
    ids: np.ndarray  # int64 customer ids
    age: np.ndarray  # int16, whole years on calendar.start
    band: np.ndarray  # age band index
    gender: np.ndarray  # index into GENDERS
    income: np.ndarray  # int32 annual income
    segment: np.ndarray  # segment index
    city: np.ndarray
    state: np.ndarray
    region: np.ndarray
    signup_day: np.ndarray  # datetime64[D]
    home_store: np.ndarray  # store index (0-based)
    loyal: np.ndarray  # bool
    activity: np.ndarray  # gamma(k, 1/k) purchase-frequency heterogeneity, mean 1
    dropout_rate: np.ndarray  # latent mu per year (customers.lifetime)
    churn_day: np.ndarray  # datetime64[D]: the end of the first life (its first dropout)
    favourite: np.ndarray  # (customers, categories) float32 uniforms: the favourite brands
    base_rate: np.ndarray  # expected transactions per day before day factors
    online_probability: np.ndarray  # P(online | a transaction happens)
    signup_order: np.ndarray  # customer indices sorted by signup day (stable)
    returns: Returns  # the spells of the customers who come back (reactivation)

    @property
    def size(self) -> int:
        """Number of customers in the block."""
        return int(self.ids.shape[0])


def block_count(spec: Spec) -> int:
    """Number of customer blocks."""
    return -(-spec.customers.count // spec.customers.block_size)


def block_range(spec: Spec, block: int) -> tuple[int, int]:
    """First customer id and number of customers of ``block``."""
    size = spec.customers.block_size
    first = block * size
    return first + 1, min(size, spec.customers.count - first)


def _uniform(spec: Spec, stream: Stream, block: int, n: int) -> np.ndarray:
    return generator(spec.seed, Entity.CUSTOMERS, stream, block).random(n)


def band_of_age(spec: Spec, age: np.ndarray) -> np.ndarray:
    """Index of the age band containing each age (the last band below it, if between bands)."""
    lows = np.asarray([b.min for b in spec.customers.age_pyramid])
    return np.maximum(np.searchsorted(lows, age, side="right") - 1, 0)


def sample_ages(spec: Spec, uniforms: np.ndarray) -> np.ndarray:
    """Age drawn from the pyramid: band by weight, then uniform whole years in the band."""
    bands = spec.customers.age_pyramid
    band = categorical(uniforms, np.asarray([b.weight for b in bands]))
    lows = np.asarray([b.min for b in bands])
    widths = np.asarray([b.max - b.min + 1 for b in bands])
    cdf = np.cumsum([b.weight for b in bands]) / sum(b.weight for b in bands)
    below = np.where(band > 0, cdf[band - 1], 0.0)
    within = (uniforms - below) / (cdf[band] - below)  # reuse the uniform inside the band
    offset = np.minimum((within * widths[band]).astype(np.int64), widths[band] - 1)
    return np.asarray(lows[band] + offset, dtype=np.int16)


def birth_dates(start: dt.date, age: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """A birth date, uniform over the days on which one is ``age`` on ``start``."""
    start_month = np.datetime64(start, "M")
    day_index = start.day - 1

    def clamped(months: np.ndarray) -> np.ndarray:
        first = months.astype("datetime64[D]")
        length = ((months + 1).astype("datetime64[D]") - first).astype(np.int64)
        return np.asarray(first + np.minimum(day_index, length - 1))

    months = start_month - 12 * age.astype(np.int64)
    latest = clamped(months)  # turned ``age`` on this day at the latest
    earliest = clamped(months - 12) + 1  # one more day and they would be age + 1
    span = (latest - earliest).astype(np.int64) + 1
    return np.asarray(earliest + np.minimum((uniforms * span).astype(np.int64), span - 1))


def median_income(spec: Spec, age: np.ndarray) -> np.ndarray:
    """The age curve of median income (linear interpolation, flat beyond the ends)."""
    points = spec.customers.income.median_by_age
    return np.asarray(np.interp(age, list(points), list(points.values())))


def signup_days(spec: Spec, uniforms: np.ndarray) -> np.ndarray:
    """Signup date: density growing by ``signup_growth`` per year over the signup window."""
    first, last = spec.customers.signup_window()
    span = (last - first).days + 1
    rate = np.log1p(spec.customers.signup_growth) / DAYS_PER_YEAR
    if abs(rate * span) < 1e-9:
        offset = uniforms * span
    else:
        offset = np.log1p(uniforms * np.expm1(rate * span)) / rate
    days = np.minimum(np.floor(offset).astype(np.int64), span - 1)
    return np.asarray(np.datetime64(first, "D") + days)


def home_stores(
    world: StoreWorld, region: np.ndarray, signup: np.ndarray, uniforms: np.ndarray
) -> np.ndarray:
    """A store of the home region open at signup, by traffic; else any store open then;
    else the store that opened first (every store world has one open before any signup)."""
    home = np.full(region.shape[0], int(np.argmin(world.open_day)), dtype=np.int32)
    assigned = np.zeros(region.shape[0], dtype=bool)
    candidates = [(world.region == r, region == r) for r in np.unique(region)]
    candidates.append((np.ones(world.count, dtype=bool), np.ones(region.shape[0], dtype=bool)))
    for store_mask, customer_mask in candidates:
        who = customer_mask & ~assigned
        if not who.any() or not store_mask.any():
            continue
        stores = np.flatnonzero(store_mask)
        stores = stores[np.argsort(world.open_day[stores], kind="stable")]
        weight = np.cumsum(world.traffic[stores])
        open_count = np.searchsorted(world.open_day[stores], signup[who], side="right")
        ok = open_count > 0
        target = uniforms[who] * weight[np.maximum(open_count - 1, 0)]
        pick = np.minimum(np.searchsorted(weight, target, side="right"), open_count - 1)
        chosen = np.flatnonzero(who)[ok]
        home[chosen] = stores[pick[ok]]
        assigned[chosen] = True
    return home


def online_probability(spec: Spec, band: np.ndarray) -> np.ndarray:
    """P(online) per customer: online share x age-band factor, capped."""
    factors = spec.sales.channels.online_age_factor
    per_band = np.asarray([factors.get(b.label, 1.0) for b in spec.customers.age_pyramid])
    share = spec.sales.channels.online_share * per_band[band]
    return np.asarray(np.minimum(share, MAX_ONLINE_PROBABILITY))


def reference_income(spec: Spec) -> float:
    """The income at which the purchase rate's income term is 1: the median at
    INCOME_REFERENCE_AGE."""
    return float(median_income(spec, np.asarray([INCOME_REFERENCE_AGE]))[0])


def base_rates(
    spec: Spec, activity: np.ndarray, segment: np.ndarray, income: np.ndarray, loyal: np.ndarray
) -> np.ndarray:
    """Expected transactions per day before day factors (r_c of docs/process.md)."""
    sales = spec.sales
    frequency = np.asarray([s.frequency for s in spec.customers.segments.values()])
    income_term = (income / reference_income(spec)) ** sales.income_elasticity
    loyalty_term = 1.0 + sales.loyalty_uplift * loyal
    return np.asarray(
        sales.visits_per_year
        / DAYS_PER_YEAR
        * activity
        * frequency[segment]
        * income_term
        * loyalty_term
    )


def customer_block(spec: Spec, block: int) -> CustomerBlock:
    """The behavioural attributes of one customer block (no names, no I/O)."""
    first_id, n = block_range(spec, block)
    seed = spec.seed
    customers = spec.customers
    age = sample_ages(spec, _uniform(spec, Stream.AGE, block, n))
    band = band_of_age(spec, age)
    gender = categorical(
        _uniform(spec, Stream.GENDER, block, n),
        np.asarray([customers.gender.get(g, 0.0) for g in GENDERS]),  # type: ignore[call-overload]
    )
    segments = list(customers.segments.values())
    segment = categorical(
        _uniform(spec, Stream.SEGMENT, block, n), np.asarray([s.share for s in segments])
    )
    income_factor = np.asarray([s.income_factor for s in segments])
    noise = generator(seed, Entity.CUSTOMERS, Stream.INCOME, block).standard_normal(n)
    income = (
        median_income(spec, age) * income_factor[segment] * np.exp(customers.income.sigma * noise)
    )
    income = np.maximum(np.round(income), 1).astype(np.int32)
    geography = load_geography(spec.calendar.country)
    city = categorical(_uniform(spec, Stream.GEOGRAPHY, block, n), city_weights(geography))
    state = geography.city_state[city]
    region = geography.state_region[state]
    signup = signup_days(spec, _uniform(spec, Stream.SIGNUP, block, n))
    stores = store_world(spec)
    home = home_stores(stores, region, signup, _uniform(spec, Stream.HOME_STORE, block, n))
    loyalty_rate = np.asarray([s.loyalty_rate for s in segments])
    loyal = _uniform(spec, Stream.LOYALTY, block, n) < loyalty_rate[segment]
    shape = customers.activity_shape
    activity = generator(seed, Entity.CUSTOMERS, Stream.ACTIVITY, block).gamma(
        shape, 1.0 / shape, n
    )
    dropout_rate, first_life, churn = lifetimes(
        spec, signup, generator(seed, Entity.CUSTOMERS, Stream.LIFETIME, block)
    )
    returns = draw_returns(
        spec,
        signup,
        first_life,
        dropout_rate,
        generator(seed, Entity.CUSTOMERS, Stream.REACTIVATION, block),
    )
    return CustomerBlock(
        block=block,
        ids=np.arange(first_id, first_id + n, dtype=np.int64),
        age=age,
        band=band,
        gender=gender,
        income=income,
        segment=segment,
        city=city,
        state=state,
        region=region,
        signup_day=signup,
        home_store=home,
        loyal=loyal,
        activity=activity,
        dropout_rate=dropout_rate,
        churn_day=churn,
        favourite=generator(seed, Entity.CUSTOMERS, Stream.FAVOURITE_BRAND, block)
        .random((n, len(spec.products.categories)))
        .astype(np.float32),
        base_rate=base_rates(spec, activity, segment, income, loyal),
        online_probability=online_probability(spec, band),
        signup_order=np.argsort(signup, kind="stable"),
        returns=returns,
    )


CACHED_BLOCKS = 2  # customer blocks a worker keeps (about 12 MB per 100,000 customers)


def cached_customer_block(spec: Spec, block: int) -> CustomerBlock:
    """A customer block, kept in this process for the block's other tasks (its customers
    task, change log, feed and sales months: the plan runs a block's tasks together)."""
    return cached_per_spec("customer_block", spec, customer_block, block, capacity=CACHED_BLOCKS)


def _names(spec: Spec, block: int, attrs: CustomerBlock) -> dict[str, pa.Array]:
    """First/last names by locale and gender, and an e-mail derived from them."""
    n = attrs.size
    locales = spec.customers.locales or {}
    pool = name_pool(tuple(sorted(locales.items())), spec.seed)
    locale = categorical(_uniform(spec, Stream.LOCALE, block, n), pool.locale_weights)
    picks = generator(spec.seed, Entity.CUSTOMERS, Stream.FIRST_NAME, block).random((n, 2))
    last_u = _uniform(spec, Stream.LAST_NAME, block, n)
    female = (attrs.gender == GENDERS.index("female")) | (
        (attrs.gender == GENDERS.index("nonbinary")) & (picks[:, 1] < 0.5)
    )
    first = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    for i in range(len(pool.locales)):
        rows = locale == i
        fem, mal = rows & female, rows & ~female
        first[fem] = sample_counted(pool.female[i], picks[fem, 0])
        first[mal] = sample_counted(pool.male[i], picks[mal, 0])
        last[rows] = sample_counted(pool.last[i], last_u[rows])
    first_idx, last_idx = pa.array(first), pa.array(last)
    email_u = generator(spec.seed, Entity.CUSTOMERS, Stream.EMAIL_PATTERN, block).random((n, 2))
    pattern = pa.array(
        np.minimum((email_u[:, 0] * EMAIL_PATTERNS).astype(np.int8), EMAIL_PATTERNS - 1)
    )
    domain = np.minimum(
        (email_u[:, 1] * len(EMAIL_DOMAINS)).astype(np.int64), len(EMAIL_DOMAINS) - 1
    )
    given = pc.take(pool.first_ascii, first_idx)
    family = pc.take(pool.last_ascii, last_idx)
    initial = pc.utf8_slice_codeunits(given, 0, INITIAL_LENGTH)
    head = pc.choose(pattern, given, initial, given, family)
    sep = pc.choose(pattern, pa.scalar("."), pa.scalar(""), pa.scalar("_"), pa.scalar("."))
    tail = pc.choose(pattern, family, family, family, given)
    email = pc.binary_join_element_wise(
        head,
        sep,
        tail,
        pc.cast(pa.array(attrs.ids), pa.string()),
        "@",
        pc.take(pa.array(EMAIL_DOMAINS), pa.array(domain)),
        "",
    )
    return {
        "first_name": pa.DictionaryArray.from_arrays(pa.array(first, pa.int32()), pool.first_names),
        "last_name": pa.DictionaryArray.from_arrays(pa.array(last, pa.int32()), pool.last_names),
        "email": email,
        "locale": dictionary_array(locale, list(pool.locales)),
    }


def addresses(spec: Spec, state: np.ndarray, u: np.ndarray) -> dict[str, pa.Array]:
    """Street address and postcode from the country's address pool, for homes in
    ``state`` (codes), from three uniforms a row (street, number, postcode)."""
    geography = load_geography(spec.calendar.country)
    pool = address_pool(geography.address_locale, geography.state_codes, spec.seed)
    street = np.minimum((u[:, 0] * len(pool.streets)).astype(np.int64), len(pool.streets) - 1)
    number = 1 + (u[:, 1] * BUILDING_NUMBER_MAX).astype(np.int64)
    street_names = pc.take(pool.streets, pa.array(street))
    numbers = pc.cast(pa.array(number), pa.string())
    parts = (numbers, street_names) if pool.number_first else (street_names, numbers)
    if pool.postcode_state_offsets is not None:
        lo = pool.postcode_state_offsets[state]
        hi = pool.postcode_state_offsets[state + 1]
        postcode = lo + np.minimum((u[:, 2] * (hi - lo)).astype(np.int64), hi - lo - 1)
    else:
        postcode = np.minimum(
            (u[:, 2] * len(pool.postcodes)).astype(np.int64), len(pool.postcodes) - 1
        )
    return {
        "street_address": pc.binary_join_element_wise(*parts, " "),
        "postcode": pc.take(pool.postcodes, pa.array(postcode)),
    }


@dataclass(frozen=True)
class Identity:
    """The columns of a block's customers that never change: names, signup e-mail,
    locale, birth date."""

    names: dict[str, pa.Array]
    birth: np.ndarray


def identity(spec: Spec, block: int, attrs: CustomerBlock) -> Identity:
    """The unchanging columns of a block's customers."""
    birth = birth_dates(
        spec.calendar.start, attrs.age, _uniform(spec, Stream.BIRTH_DAY, block, attrs.size)
    )
    return Identity(_names(spec, block, attrs), birth)


def changed_emails(signup_email: pa.Array, version: np.ndarray, domain: np.ndarray) -> pa.Array:
    """The address after a customer's ``version``-th change of e-mail: the signup
    address's local part, ``.version``, and a reserved domain (unique as the signup one)."""
    local = pc.struct_field(pc.extract_regex(signup_email, r"^(?P<local>[^@]*)@"), [0])
    changed = pc.binary_join_element_wise(
        local,
        ".",
        pc.cast(pa.array(version), pa.string()),
        "@",
        pc.take(pa.array(EMAIL_DOMAINS), pa.array(domain)),
        "",
    )
    return pc.if_else(pa.array(version > 0), changed, signup_email)


def customer_rows(
    spec: Spec,
    attrs: CustomerBlock,
    fixed: Identity,
    rows: np.ndarray,
    home: dict[str, np.ndarray],
) -> pa.Table:
    """Customers table rows of the block's customers ``rows`` with the changing columns
    ``home`` (city, state, region, home_store, income, loyal, email_version,
    email_domain, address: one value per row)."""
    geography = load_geography(spec.calendar.country)
    store_ids = store_world(spec).ids()
    take = pa.array(rows)
    names = fixed.names
    places = addresses(spec, home["state"], home["address"])
    email = changed_emails(
        pc.take(names["email"], take), home["email_version"], home["email_domain"]
    )
    columns = {
        "customer_id": pa.array(attrs.ids[rows]),
        "first_name": pc.take(names["first_name"], take),
        "last_name": pc.take(names["last_name"], take),
        "email": email,
        "gender": dictionary_array(attrs.gender[rows], GENDERS),
        "birth_date": pa.array(fixed.birth[rows], pa.date32()),
        "age": pa.array(attrs.age[rows], pa.int16()),
        "income": pa.array(home["income"], pa.int32()),
        "segment": dictionary_array(attrs.segment[rows], list(spec.customers.segments)),
        "region": dictionary_array(home["region"], geography.regions),
        "state": dictionary_array(home["state"], geography.states),
        "city": dictionary_array(home["city"], geography.cities),
        "postcode": places["postcode"],
        "street_address": places["street_address"],
        "signup_date": pa.array(attrs.signup_day[rows], pa.date32()),
        "home_store_id": pa.array(store_ids[home["home_store"]], pa.int32()),
        "is_loyalty_member": pa.array(home["loyal"], pa.bool_()),
        "locale": pc.take(names["locale"], take),
    }
    return pa.Table.from_pydict(columns, schema=CUSTOMERS_SCHEMA)
