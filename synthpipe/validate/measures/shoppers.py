"""Who buys in a sales partition: legitimate sales per purchase-rate class of customer,
per age band and channel, per whole year since signup, and in the home region."""

from __future__ import annotations

import numpy as np

from synthpipe.clock import UNIX_EPOCH
from synthpipe.validate import statistics as st
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.measures.frame import SalesFrame
from synthpipe.validate.measures.index import IdIndex
from synthpipe.validate.merge import Stats
from synthpipe.vocabulary import CHANNELS, GENDERS, IN_STORE, SALE

TENURE_YEARS = 6  # sales by tenure: 0, 1, ... 4 whole years since signup, and 5 or more
DAYS_PER_TENURE_YEAR = 365


def shoppers(ctx: ValidationContext, frame: SalesFrame) -> Stats:
    """Sales per class, per (age band, channel), by tenure, and in the home region."""
    stats = _classes(ctx, frame)
    stats[st.TRANSACTIONS_SALES_BY_TENURE] = _tenure(frame)
    stats.update(_store_choice(ctx, frame))
    return stats


def _classes(ctx: ValidationContext, frame: SalesFrame) -> Stats:
    """Legitimate sales per purchase-rate class (segment x loyalty x income band), against
    the class's expected purchases (customers units), and per (age band, channel): the
    online share by age."""
    txn, sale = frame.txn, frame.sales.sale
    klass = frame.people.intensity_class.take(txn.customer_row)
    counted = sale & (ctx.class_segment(klass) >= 0)
    channels = len(CHANNELS)
    band_channel = (frame.sales.group // len(GENDERS)) * channels + txn.channel
    return {
        st.TRANSACTIONS_SALES_BY_CLASS: np.bincount(
            klass[counted], minlength=ctx.intensity_classes()
        ),
        st.TRANSACTIONS_SALES_BY_BAND_CHANNEL: np.bincount(
            band_channel[sale], minlength=len(ctx.bands_low) * channels
        ).reshape(-1, channels),
    }


def _tenure(frame: SalesFrame) -> np.ndarray:
    """Ordinary sales by the customer's whole years since signup (the last cell: that
    many or more), the cohort curve the lifetime model shapes."""
    txn = frame.txn
    sales = np.flatnonzero(txn.ordinary & (txn.kind == SALE) & txn.customer_found)
    signup = frame.people.signup.take(txn.customer_row.take(sales))
    years = (txn.unix_day.take(sales) - signup) // DAYS_PER_TENURE_YEAR
    return np.bincount(np.clip(years, 0, TENURE_YEARS - 1), minlength=TENURE_YEARS)


def _store_choice(ctx: ValidationContext, frame: SalesFrame) -> Stats:
    """Legitimate in-store sales in the customer's home region: observed, and expected from
    the store-choice mix (home store, a store of the region, any store by traffic)."""
    txn, catalogue = frame.txn, frame.catalogue
    choice = ctx.spec.sales.store_choice
    total = choice.home + choice.region + choice.travel
    mask = (
        txn.customer_found
        & ~txn.is_fraud
        & (txn.kind == SALE)
        & (txn.channel == IN_STORE)
        & ~txn.store_null
        & txn.store_resolvable
    )
    chosen = np.flatnonzero(mask)  # taken from two columns: an index array
    home = txn.home_region.take(chosen)
    home_stores = IdIndex.of(txn.home_store.take(chosen), catalogue.stores)
    home_in_region = home_stores.take(catalogue.store_region, -1) == home
    observed = txn.store_region.take(chosen) == home
    first_day = ctx.dates[ctx.month_of_day == frame.month][0]
    open_by = catalogue.store_open <= int((first_day - UNIX_EPOCH).astype(np.int64))
    weight = catalogue.store_traffic * open_by
    by_region = np.bincount(
        np.maximum(catalogue.store_region, 0), weights=weight, minlength=len(ctx.regions)
    )
    share = by_region / max(weight.sum(), 1e-12)
    has_store = by_region > 0
    valid = home >= 0
    region = home[valid]
    expected = (
        choice.home * home_in_region[valid]
        + choice.region * np.where(has_store[region], 1.0, home_in_region[valid])
        + choice.travel * share[region]
    ) / total
    return {
        st.STORE_CHOICE_IN_STORE_SALES: int(np.count_nonzero(valid)),
        st.STORE_CHOICE_HOME_REGION_OBSERVED: int(np.count_nonzero(observed[valid])),
        st.STORE_CHOICE_HOME_REGION_EXPECTED: float(expected.sum()),
    }
