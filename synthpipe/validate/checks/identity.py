"""Checks of the identity family: what a block's customers registered (devices, cards,
addresses) against the ``identity`` section and the rings of ``fraud.types.fraud_ring``
(``synthpipe.model.identity``).

Each table's rows are a sum over customers of independent counts, so each check is
|observed - expected| against GATE_SIGMAS standard deviations: devices
N x devices_mean + rings x shared_devices; cards N x cards_mean + family cards (households
of two or more x family_card_share) + rings x shared_cards; addresses the households' homes
+ N x extra_addresses_mean + rings x drop_addresses. Households are counted by a renewal
approximation (a household_share of the customers cut into households of uniform
2..household_size_max), hence COUNT_SLACK. A block holds max(1, Poisson(lambda)) rings,
lambda = its customers x rings_per_10000_customers / 10,000.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from synthpipe.model.customers import block_count, block_range
from synthpipe.model.identity import ring_params
from synthpipe.validate import statistics as st
from synthpipe.validate.checks.base import CheckFamily, fidelity, integrity, stat
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.gates import GATE_SIGMAS, Check, at_most, two_sided_normal_p, zero
from synthpipe.validate.merge import Stats

COUNT_SLACK = 0.003  # relative: the households' renewal approximation
PER_CUSTOMERS = 10_000  # rings_per_10000_customers counts rings per this many customers


@dataclass(frozen=True)
class Expected:
    """An expected count and its variance."""

    mean: float
    variance: float

    def __add__(self, other: Expected) -> Expected:
        return Expected(self.mean + other.mean, self.variance + other.variance)

    def times(self, k: float) -> Expected:
        """k times the count."""
        return Expected(k * self.mean, k * k * self.variance)


def expected_rings(ctx: ValidationContext) -> Expected:
    """Rings over the blocks: E max(1, X) = lambda + exp(-lambda), X ~ Poisson(lambda)."""
    rate = ring_params(ctx.spec).rings_per_10000_customers / PER_CUSTOMERS
    mean = variance = 0.0
    for block in range(block_count(ctx.spec)):
        lam = block_range(ctx.spec, block)[1] * rate
        mean += lam + math.exp(-lam)
        variance += lam
    return Expected(mean, variance)


def expected_households(ctx: ValidationContext, customers: float) -> tuple[Expected, Expected]:
    """Households (people alone included) and households of two or more."""
    identity = ctx.spec.identity
    p, largest = identity.household_share, identity.household_size_max
    size = (2 + largest) / 2.0
    size_variance = ((largest - 1) ** 2 - 1) / 12.0
    members = Expected(customers * p, customers * p * (1.0 - p))
    # renewal: groups ~ members / size, with variance members x size_variance / size^3
    groups = Expected(
        members.mean / size,
        members.variance / size**2 + members.mean * size_variance / size**3,
    )
    # households = customers - members + groups: the members' spread shrunk by 1 - 1/size
    households = Expected(
        customers - members.mean + groups.mean,
        members.variance * (1.0 - 1.0 / size) ** 2 + members.mean * size_variance / size**3,
    )
    return households, groups


def count_check(name: str, what: str, observed: float, expected: Expected) -> Check:
    """|observed - expected| within GATE_SIGMAS deviations and COUNT_SLACK."""
    spread = math.sqrt(max(expected.variance, 1.0))
    return at_most(
        name,
        "fidelity",
        "|observed - expected| rows",
        abs(observed - expected.mean),
        GATE_SIGMAS * spread + COUNT_SLACK * expected.mean,
        f"{what}: {observed:,.0f} observed vs {expected.mean:,.1f} expected",
        two_sided_normal_p((observed - expected.mean) / spread),
    )


def identity_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Keys unique; devices, cards and addresses against the spec."""
    checks = [
        zero(
            "identity.keys_unique",
            int(stat(stats, st.IDENTITY_KEY_DUPLICATES)),
            "device, card and address ids are unique in their tables",
        )
    ]
    customers = float(stat(stats, st.CUSTOMERS_ROWS))
    if customers <= 0:
        return checks
    identity, rings = ctx.spec.identity, ring_params(ctx.spec)
    ring_count = expected_rings(ctx)
    households, shared = expected_households(ctx, customers)
    devices = Expected(
        customers * identity.devices_mean, customers * (identity.devices_mean - 1.0)
    ) + ring_count.times(rings.shared_devices)
    q = identity.family_card_share
    family = Expected(shared.mean * q, shared.mean * q * (1 - q) + q * q * shared.variance)
    cards = (
        Expected(customers * identity.cards_mean, customers * (identity.cards_mean - 1.0))
        + family
        + ring_count.times(rings.shared_cards)
    )
    extra = identity.extra_addresses_mean
    addresses = (
        households
        + Expected(customers * extra, customers * extra)
        + ring_count.times(rings.drop_addresses)
    )
    checks += [
        count_check(
            "identity.devices",
            "devices (devices_mean; rings' shared_devices)",
            float(stat(stats, st.ROWS["devices"])),
            devices,
        ),
        count_check(
            "identity.cards",
            "cards (cards_mean, family_card_share; rings' shared_cards)",
            float(stat(stats, st.ROWS["cards"])),
            cards,
        ),
        count_check(
            "identity.addresses",
            "addresses (household_share and household_size_max: one home per household;"
            " extra_addresses_mean; rings' drop_addresses)",
            float(stat(stats, st.ROWS["addresses"])),
            addresses,
        ),
    ]
    return checks


CHECKS = (
    integrity(
        "identity.keys_unique",
        "device, card and address ids are unique in their tables",
        st.IDENTITY_KEY_DUPLICATES,
    ),
    fidelity(
        "identity.devices",
        "devices per customer as identity.devices_mean says, plus the rings' shared devices",
        st.ROWS["devices"],
        st.CUSTOMERS_ROWS,
        only_when="the dataset has customers",
    ),
    fidelity(
        "identity.cards",
        "cards per customer as identity.cards_mean and family_card_share say, plus the"
        " rings' shared cards",
        st.ROWS["cards"],
        st.CUSTOMERS_ROWS,
        only_when="the dataset has customers",
    ),
    fidelity(
        "identity.addresses",
        "addresses: a home per household (household_share, household_size_max), plus"
        " extra_addresses_mean per customer and the rings' drop addresses",
        st.ROWS["addresses"],
        st.CUSTOMERS_ROWS,
        only_when="the dataset has customers",
    ),
)

FAMILY = CheckFamily(
    order=22,
    judge=lambda ctx, stats, _listing: identity_checks(ctx, stats),
    checks=CHECKS,
)
