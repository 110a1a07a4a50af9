"""Checks of the purchases family: customers followed across months (ids that are
multiples of the context's ``sample_modulus``). How many ordinary purchases each makes over
the calendar, and the days from one purchase to the next, against the exact laws of the
generating process given each customer's visible attributes and signup day: purchases
are Poisson with rate A x rho(d), A ~ Gamma(k, 1/k) the latent activity, rho the
customer's rate x the day factors, until a latent churn day of survival S."""

from __future__ import annotations

import numpy as np

from synthpipe.clock import UNIX_EPOCH
from synthpipe.model.lifecycle import reactivates, survival
from synthpipe.validate import statistics as st
from synthpipe.validate.checks.base import MIX_SLACK, CheckFamily, CheckInfo, fidelity, stat
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.gates import Check, at_most, kish_effective, tvd, tvd_threshold
from synthpipe.validate.lifecycles import (
    RETURN_MIN_PURCHASES,
    SimulatedPurchases,
    day_cells,
    longest_gaps,
    simulate_purchases,
    simulated_size,
)
from synthpipe.validate.merge import Stats

MIN_CUSTOMERS = 200  # fewer followed customers than this: not judged
MAX_PURCHASES = 40  # purchases per customer counted one by one; more share the last cell
CHURN_CELLS = 60  # the churn day's distribution over the calendar, in at most this many cells
GAP_EDGES = np.asarray([0, 1, 2, 3, 5, 8, 15, 31, 61, 121, 241, 481])  # days, left edges
RETURN_GAP_EDGES = np.asarray([21, 31, 46, 61, 91, 121, 181, 241, 361])  # days, left edges
GAP_WORK = 40_000_000  # (purchase, day) pairs evaluated for the gaps' law, at most
CHUNK = 2_048  # customers per block of the purchase counts' expectation
GAP_CELLS = 2_000_000  # (purchase, day) pairs per block of the gaps' expectation


def _followed(ctx: ValidationContext, stats: Stats) -> tuple[np.ndarray, np.ndarray]:
    """The followed customers with known rates who signed up by calendar.end: rows of
    (id, signup day, rate in store, rate online), sorted by id; and their first sales as
    rows of (customer id, day, ts) sorted by (customer, ts)."""
    people = [p for p in stat(stats, st.CUSTOMERS_SAMPLE, []) if p.shape[0]]
    sales = [p for p in stat(stats, st.TRANSACTIONS_SAMPLE, []) if p.shape[0]]
    end = int((ctx.dates[-1] - UNIX_EPOCH).astype(np.int64))
    customers = np.concatenate(people) if people else np.zeros((0, 4))
    customers = customers[np.isfinite(customers).all(axis=1) & (customers[:, 1] <= end)]
    customers = customers[np.argsort(customers[:, 0], kind="stable")]
    bought = np.concatenate(sales) if sales else np.zeros((0, 3), dtype=np.int64)
    bought = bought[np.lexsort((bought[:, 2], bought[:, 0]))]
    return customers, bought


def _rows_of(ids: np.ndarray, customer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each purchase's row among the followed customers' sorted ``ids``, and whether its
    customer is one of them."""
    row = np.searchsorted(ids, customer)
    known = (row < ids.shape[0]) & (ids[np.minimum(row, ids.shape[0] - 1)] == customer)
    return row, known


def _rate_cumulative(ctx: ValidationContext, rates: np.ndarray) -> np.ndarray:
    """(customers, days + 1): the running sum of rho(d) = r_in f_in(d) + r_on f_on(d) over
    the calendar, 0 at index 0."""
    running = np.vstack([np.zeros((1, 2)), np.cumsum(ctx.daily_factors, axis=0)])
    return np.asarray(rates @ running.T)


def expected_purchase_counts(ctx: ValidationContext, customers: np.ndarray) -> np.ndarray:
    """Expected number of customers with n = 0..MAX_PURCHASES purchases (the last: that
    many or more). Given the churn lag L, N is negative binomial (shape k, mean r x the day
    factors summed over the calendar days bought); L is summed over cells of the calendar
    (S(lag) - S(lag') each, the cell's middle day for its mean), plus the masses of having
    stopped before the calendar and of buying to its end."""
    k = ctx.spec.customers.activity_shape
    days = ctx.days
    start = int(ctx.start_day)
    edges = np.unique(np.linspace(0, days, min(CHURN_CELLS, days) + 1).round().astype(np.int64))
    middles = (edges[:-1] + edges[1:]) // 2
    total = np.zeros(MAX_PURCHASES + 1)
    for chunk in range(0, customers.shape[0], CHUNK):
        part = customers[chunk : chunk + CHUNK]
        offset = (part[:, 1] - start).astype(np.int64)  # signup, as a calendar index
        first = np.maximum(offset, 0)
        cumulative = _rate_cumulative(ctx, part[:, 2:4])
        base = np.take_along_axis(cumulative, first[:, None], axis=1)[:, 0]
        # X = offset + L, the first calendar index not bought: P(X > x) = S(x - offset)
        bounds = np.maximum(edges[None, :], first[:, None])  # (customers, cells + 1)
        alive = survival(ctx.spec, bounds - offset[:, None])
        mass = alive[:, :-1] - alive[:, 1:]  # churn inside each cell
        stop = np.clip(np.maximum(middles[None, :], first[:, None]), 0, days)
        mean = np.take_along_axis(cumulative, stop, axis=1) - base[:, None]
        never = 1.0 - alive[:, 0]  # stopped before buying on any calendar day
        whole = alive[:, -1]  # still buying at the end
        full = cumulative[:, -1] - base
        means = np.column_stack([np.zeros(part.shape[0]), mean, full])
        weights = np.column_stack([never, mass, whole])
        total += np.einsum("cl,cln->n", weights, negative_binomial_cells(k, means))
    return total


def negative_binomial_cells(k: float, means: np.ndarray) -> np.ndarray:
    """P(N = n) for n = 0..MAX_PURCHASES - 1 and P(N >= MAX_PURCHASES) of a negative
    binomial of shape k and each mean, by the recursion
    P(n) = P(n - 1) (n - 1 + k) / n x m / (k + m) from P(0) = (k / (k + m))^k."""
    ratio = means / (k + means)
    cells = np.empty((*means.shape, MAX_PURCHASES + 1))
    cells[..., 0] = (k / (k + means)) ** k
    for n in range(1, MAX_PURCHASES):
        cells[..., n] = cells[..., n - 1] * (n - 1 + k) / n * ratio
    cells[..., MAX_PURCHASES] = np.maximum(1.0 - cells[..., :MAX_PURCHASES].sum(axis=-1), 0.0)
    return cells


def purchases_check(
    ctx: ValidationContext, stats: Stats, simulated: SimulatedPurchases | None = None
) -> Check | None:
    """Purchases per followed customer over the calendar against the NBD-with-dropout law
    (against ``simulated`` histories when customers can come back)."""
    customers, bought = _followed(ctx, stats)
    if customers.shape[0] < MIN_CUSTOMERS:
        return None
    ids = customers[:, 0].astype(np.int64)
    row, known = _rows_of(ids, bought[:, 0])
    per_customer = np.bincount(row[known], minlength=ids.shape[0])
    observed = np.bincount(np.minimum(per_customer, MAX_PURCHASES), minlength=MAX_PURCHASES + 1)
    size = float(ids.shape[0])
    if simulated is None:
        expected = expected_purchase_counts(ctx, customers)
    else:
        expected, size = simulated.per_customer, simulated_size(size)
    distance = tvd(observed, expected)
    gate = tvd_threshold(size, expected, MIX_SLACK)
    mean_observed = float(per_customer.mean())
    mean_expected = float((expected * np.arange(MAX_PURCHASES + 1)).sum() / expected.sum())
    return at_most(
        "customers.purchases_per_customer",
        "fidelity",
        "TVD",
        distance,
        gate,
        f"ordinary purchases per followed customer over the calendar vs negative binomial"
        f" (activity_shape) with dropout ({ids.shape[0]:,} customers; mean {mean_observed:.2f}"
        f" observed, {mean_expected:.2f} expected; none: {observed[0] / ids.shape[0]:.3f} vs"
        f" {expected[0] / max(expected.sum(), 1e-300):.3f})",
    )


def _q(x: np.ndarray, k: float) -> np.ndarray:
    """(1 + x / k) ** -k: the integral of the size-biased activity's Laplace transform."""
    return np.asarray((1.0 + x / k) ** (-k))


def expected_gaps(
    ctx: ValidationContext,
    rates: np.ndarray,
    tenure: np.ndarray,
    day: np.ndarray,
) -> np.ndarray:
    """Expected number of purchases whose next one comes g = 0, 1, ... days later, summed
    per GAP_EDGES cell. A purchase's customer has the size-biased activity A ~ Gamma(k + 1,
    1/k); the purchase is the day's last with E[(1 - e^-A rho) / (A rho)], then none for
    g - 1 days and one on day g: (Q(a) - Q(a + rho_d) - Q(a + b) + Q(a + b + rho_d)) / rho_d
    with a the rate summed over the days between, b day g's rate and
    Q(x) = (1 + x / k)^-k; times S(t + g) / S(t) and only inside the calendar. g = 0 (a
    later purchase the same day): 1 - (1 - Q(rho_d)) / rho_d."""
    k = ctx.spec.customers.activity_shape
    days = ctx.days
    cells = np.zeros(GAP_EDGES.shape[0])
    rows = max(16, GAP_CELLS // max(days, 1))
    for chunk in range(0, day.shape[0], rows):
        part = slice(chunk, chunk + rows)
        cumulative = _rate_cumulative(ctx, rates[part])  # (n, days + 1)
        d = day[part]
        n = d.shape[0]
        rho_d = (
            np.take_along_axis(cumulative, (d + 1)[:, None], axis=1)[:, 0]
            - (np.take_along_axis(cumulative, d[:, None], axis=1)[:, 0])
        )
        rho_d = np.maximum(rho_d, 1e-300)
        cells[0] += float((1.0 - (1.0 - _q(rho_d, k)) / rho_d).sum())
        longest = int(min(days - 1 - d.min(), days)) if n else 0
        if longest < 1:
            continue
        g = np.arange(1, longest + 1)
        target = d[:, None] + g[None, :]  # (n, longest)
        inside = target < days
        clipped = np.minimum(target, days - 1)
        after = np.take_along_axis(cumulative, (d + 1)[:, None], axis=1)
        a = np.take_along_axis(cumulative, clipped, axis=1) - after
        b = np.take_along_axis(cumulative, clipped + 1, axis=1) - np.take_along_axis(
            cumulative, clipped, axis=1
        )
        r = rho_d[:, None]
        law = (_q(a, k) - _q(a + r, k) - _q(a + b, k) + _q(a + b + r, k)) / r
        staying = (
            survival(ctx.spec, tenure[part][:, None] + g[None, :])
            / survival(ctx.spec, tenure[part])[:, None]
        )
        # floating rounding can leave a difference of Q values a hair below zero
        mass = np.where(inside, np.maximum(law, 0.0) * staying, 0.0).sum(axis=0)  # per g
        cell = np.searchsorted(GAP_EDGES, g, side="right") - 1
        cells += np.bincount(cell, weights=mass, minlength=GAP_EDGES.shape[0])
    return cells


def gap_check(
    ctx: ValidationContext, stats: Stats, simulated: SimulatedPurchases | None = None
) -> Check | None:
    """Days from a followed customer's purchase to its next, against ``expected_gaps``
    (against ``simulated`` histories of every followed customer when customers can come
    back); a customer's gaps share its activity, so the sample's size is the Kish
    effective number of customers."""
    found = _observed_gaps(ctx, stats, exact=simulated is None)
    if found is None:
        return None
    gap, owner, expected = found
    if simulated is not None:
        expected = simulated.gap_cells(GAP_EDGES)
    observed = np.bincount(
        np.searchsorted(GAP_EDGES, gap, side="right") - 1, minlength=GAP_EDGES.shape[0]
    )
    per_customer = np.bincount(owner)
    per_customer = per_customer[per_customer > 0]
    if per_customer.shape[0] < MIN_CUSTOMERS:
        return None
    effective = kish_effective(per_customer)
    if simulated is not None:
        effective = simulated_size(effective)
    distance = tvd(observed, expected)
    gate = tvd_threshold(effective, expected, MIX_SLACK)
    return at_most(
        "transactions.inter_purchase_time",
        "fidelity",
        "TVD",
        distance,
        gate,
        f"days from a followed customer's purchase to its next vs the Poisson-Gamma law with"
        f" dropout ({gap.shape[0]:,} gaps of {per_customer.shape[0]:,} customers, median"
        f" {np.median(gap):.0f} days)",
    )


def _observed_gaps(
    ctx: ValidationContext, stats: Stats, exact: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The followed customers' gaps in days from a purchase to their next, each gap's
    customer row, and with ``exact`` the ``expected_gaps`` of the same purchases (the
    exact law's work is bounded: whole customers in id order until GAP_WORK; else every
    followed customer, and no expectation)."""
    customers, bought = _followed(ctx, stats)
    if customers.shape[0] < MIN_CUSTOMERS or bought.shape[0] < 2:
        return None
    ids = customers[:, 0].astype(np.int64)
    row, known = _rows_of(ids, bought[:, 0])
    bought, row = bought[known], row[known]
    start = int(ctx.start_day)
    day = bought[:, 1] - start
    same = np.append(bought[1:, 0] == bought[:-1, 0], False)
    gap = np.append(np.diff(day), 0)
    work = np.cumsum(ctx.days - day)
    keep = work <= max(GAP_WORK, int(work[0]) if work.shape[0] else 0)
    keep |= not exact
    if keep.shape[0] and not keep.all():
        last_customer = bought[np.flatnonzero(keep)[-1], 0]
        keep &= bought[:, 0] != last_customer
    signed = bought[:, 1] - customers[row, 1].astype(np.int64)
    # a purchase before signup is an integrity failure (transactions.after_signup)
    chosen = np.flatnonzero(keep & (day >= 0) & (day < ctx.days) & (signed >= 0))
    expected = np.zeros(GAP_EDGES.shape[0])
    if exact:
        expected = expected_gaps(ctx, customers[row[chosen], 2:4], signed[chosen], day[chosen])
    seen = chosen[same[chosen]]
    return gap[seen], row[seen], expected


def return_gap_check(
    ctx: ValidationContext, stats: Stats, simulated: SimulatedPurchases
) -> Check | None:
    """The longest gap of each followed customer who buys RETURN_MIN_PURCHASES or more
    times over the calendar: their ordinary gaps are short, so a dormant spell shows as one
    long silence. Its distribution over RETURN_GAP_EDGES against the simulated
    histories'."""
    customers, bought = _followed(ctx, stats)
    ids = customers[:, 0].astype(np.int64)
    row, known = _rows_of(ids, bought[:, 0])
    day = bought[known, 1] - int(ctx.start_day)
    inside = (day >= 0) & (day < ctx.days)
    row, day = row[known][inside], day[inside]
    often = np.bincount(row, minlength=ids.shape[0]) >= RETURN_MIN_PURCHASES
    if int(often.sum()) < MIN_CUSTOMERS:
        return None
    edges = RETURN_GAP_EDGES[ctx.days > RETURN_GAP_EDGES]
    longest = longest_gaps(row, day, ids.shape[0])[often]
    observed = np.bincount(
        np.searchsorted(edges, longest, side="right"), minlength=edges.shape[0] + 1
    )
    expected = np.concatenate(
        [
            [simulated.longest_gap_days[: edges[0]].sum()],
            day_cells(simulated.longest_gap_days, edges),
        ]
    )
    distance = tvd(observed, expected)
    gate = tvd_threshold(simulated_size(float(often.sum())), expected, MIX_SLACK)
    return at_most(
        "customers.return_gaps",
        "fidelity",
        "TVD",
        distance,
        gate,
        f"longest gap of the followed customers buying {RETURN_MIN_PURCHASES}+ times vs"
        f" simulated histories with reactivation ({int(often.sum()):,} customers; a gap of"
        f" {edges[0]}+ days: {float((longest >= edges[0]).mean()):.3f} observed,"
        f" {float(expected[1:].sum() / max(expected.sum(), 1e-300)):.3f} expected)",
    )


def purchase_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Purchases per customer and the time between purchases: exact laws, or simulated
    histories when customers can come back (``synthpipe.validate.lifecycles``)."""
    simulated = None
    if reactivates(ctx.spec):
        customers, _ = _followed(ctx, stats)
        if customers.shape[0] >= MIN_CUSTOMERS:
            simulated = simulate_purchases(ctx, customers, MAX_PURCHASES)
    found = [purchases_check(ctx, stats, simulated), gap_check(ctx, stats, simulated)]
    if simulated is not None:
        found.append(return_gap_check(ctx, stats, simulated))
    return [check for check in found if check is not None]


CHECKS: tuple[CheckInfo, ...] = (
    fidelity(
        "customers.purchases_per_customer",
        "ordinary purchases per followed customer over the calendar vs negative binomial"
        " (customers.activity_shape) mixed over the churn day",
        st.CUSTOMERS_SAMPLE,
        st.TRANSACTIONS_SAMPLE,
        only_when=f"{MIN_CUSTOMERS}+ followed customers",
    ),
    fidelity(
        "transactions.inter_purchase_time",
        "days from a followed customer's purchase to its next vs the Poisson-Gamma law with"
        " the day factors, dropout and the calendar's end",
        st.CUSTOMERS_SAMPLE,
        st.TRANSACTIONS_SAMPLE,
        only_when=f"{MIN_CUSTOMERS}+ followed customers with a repeat purchase",
    ),
    fidelity(
        "customers.return_gaps",
        "the longest gap of the followed customers who buy often vs simulated histories"
        " (customers.lifetime.reactivation)",
        st.CUSTOMERS_SAMPLE,
        st.TRANSACTIONS_SAMPLE,
        only_when=f"reactivation on, {MIN_CUSTOMERS}+ followed customers who buy often",
    ),
)

FAMILY = CheckFamily(
    order=47,
    judge=lambda ctx, stats, _listing: purchase_checks(ctx, stats),
    checks=CHECKS,
)
