"""The seed contract: every random draw in synthpipe comes from a generator built here.

A generator is keyed by ``(entity, stream, *block)``: the entity (customers, transactions,
...), the stream (one per column or feature, so adding a feature never shifts another), and
the block of data it fills (a customer block, a month). The keys are stable integers named
in this module and nowhere else; never renumber a member, only add new ones.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Entity(IntEnum):
    """Top-level key part: which table or world object a draw belongs to."""

    CUSTOMERS = 1
    PRODUCTS = 2
    STORES = 3
    TRANSACTIONS = 4
    REFUNDS = 5
    FRAUD = 6
    POOLS = 7
    IDS = 8
    LEARNING = 9  # the learnability section's models (no data comes from it)
    VALIDATION = 10  # the fidelity report's simulated laws (no data comes from it)
    IDENTITY = 11  # devices, network addresses, cards, shipping addresses (model.identity)


class Stream(IntEnum):
    """Second key part: one stream per column or feature."""

    # customers
    AGE = 1
    GENDER = 2
    INCOME = 3
    SEGMENT = 4
    GEOGRAPHY = 5
    SIGNUP = 6
    HOME_STORE = 7
    LOYALTY = 8
    ACTIVITY = 9
    FIRST_NAME = 10
    LAST_NAME = 11
    EMAIL_PATTERN = 12
    ADDRESS = 13
    LOCALE = 14
    BIRTH_DAY = 15
    ONLINE_PROPENSITY = 16
    LIFETIME = 17  # the latent dropout rate and dropout time (customers.lifetime)
    FAVOURITE_BRAND = 18  # one uniform per customer and category (products.brand_loyalty)
    STAPLES = 19  # per customer and staple category: whether, which product, cycle, phase
    CHANGES = 28  # per customer and month: which changes happen, when, and to what
    REACTIVATION = 29  # how many times a customer comes back, its dormant and active spells
    # products
    CATEGORY = 20
    SUBCATEGORY = 21
    BRAND = 22
    PRICE = 23
    MARGIN = 24
    POPULARITY = 25
    PRODUCT_NAME = 26
    ASSOCIATIONS = 27  # the planted complement and substitute pairs
    # stores
    STORE_REGION = 30
    STORE_FORMAT = 31
    OPEN_DATE = 32
    # transactions (all consumed day-major, see synthpipe.model.transactions)
    DAILY_COUNT = 40
    CUSTOMER_PICK = 41
    TIME_OF_DAY = 42
    STORE_PICK = 43
    PAYMENT = 44
    BASKET_SIZE = 45
    LINE_CATEGORY = 46
    LINE_PRODUCT = 47
    QUANTITY = 48
    DISCOUNT = 49
    HABIT_REPEAT = 50  # whether a sale has a same-day repeat, and the gap (sales.habits)
    HABIT_NIGHT = 51  # whether an online sale is placed at night, and when
    HABIT_GIFT = 52  # whether an online sale is shipped away as a gift, and where
    HABIT_SPLURGE = 53  # whether a sale is a splurge, and its extra lines
    LINE_LOYALTY = 54  # whether a line is of the customer's favourite brand
    LINE_SUBSTITUTE = 55  # whether a substitute line keeps to its basket's first member
    REPLENISHMENT = 57  # a reorder's channel, time, store, payment, quantity and markdown
    LINE_COMPLEMENT = 56  # whether an anchor line brings its partner, and the partner's draws
    # fraud (each fraud type draws from its own sub-key, see synthpipe.model.fraud)
    FRAUD_COUNT = 60
    FRAUD_VICTIM = 61
    FRAUD_EVENT_SIZE = 62
    FRAUD_TIME = 63
    FRAUD_PLACE = 64
    FRAUD_ITEMS = 65  # how many lines a fraud transaction has
    FRAUD_LINES = 67  # a fraud line: category, product, quantity, markdown, depth
    LABEL_REPORT = 68  # whether a transaction is ever reported as fraud (per process)
    LABEL_DELAY = 69  # when its report arrives
    FRAUD_CAMOUFLAGE = 70  # whether an event imitates its victim (fraud.difficulty)
    FRAUD_USUAL_GOODS = 71  # retired: camouflaged lines now draw from FRAUD_LINES
    FRAUD_USUAL_PAYMENT = 72  # how a camouflaged event pays instead
    FRAUD_ATTACKER = 73  # which ring's devices and drop addresses an attack uses
    # pools and ids
    FAKER_POOL = 80
    ID_PERMUTATION = 81
    ENTITY_IDS = 82  # the keyed permutation of device, card, address and network ids
    # learnability
    MODEL = 90
    # validation
    LIFECYCLE_SIMULATION = 91  # simulated lifecycles where a law has no closed form
    LEAKAGE_SAMPLE = 92  # the leakage audit's share of rows when its blocks hold too many
    # identity (per customer block, then per block-month for the sessions)
    HOUSEHOLDS = 100  # who lives with whom: household sizes and the shuffle of members
    DEVICES = 101  # devices each customer owns
    CARDS = 102  # cards each customer holds, and which households have a family card
    ADDRESSES = 103  # addresses each customer registers besides the home
    RINGS = 104  # fraud rings: how many, their members' signup burst, their shared keys
    SESSION_DEVICE = 105  # the device of each online transaction
    SESSION_NETWORK = 106  # the network address of each online transaction
    SESSION_CARD = 107  # the card of each card payment
    SESSION_ADDRESS = 108  # the shipping address of each online sale


class FraudKey(IntEnum):
    """Stable key of each fraud typology: its random streams' sub-key, its transaction-id
    subrange (``synthpipe.model.ids.FRAUD_SUBRANGE_BASE`` + key) and its code in the
    ``fraud_type`` column. One member per module of ``synthpipe.fraud``; append only."""

    CARD_TESTING = 0
    ACCOUNT_TAKEOVER = 1
    STOLEN_CARD = 2
    REFUND_ABUSE = 3
    FRAUD_RING = 4


def generator(seed: int, entity: Entity, stream: Stream, *block: int) -> np.random.Generator:
    """Return the generator for one stream of one data block.

    The same ``(seed, entity, stream, block)`` always yields the same sequence, on any
    machine and in any process, whatever else is generated before or after it.
    """
    key = (int(entity), int(stream), *(int(part) for part in block))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def integer_seed(seed: int, entity: Entity, stream: Stream, *block: int) -> int:
    """Return a 32-bit integer derived from the key, for libraries that take an int seed."""
    key = (int(entity), int(stream), *(int(part) for part in block))
    return int(np.random.SeedSequence(seed, spawn_key=key).generate_state(1)[0])


def integer_seed64(seed: int, entity: Entity, stream: Stream, *block: int) -> int:
    """Return a 64-bit integer derived from the key, for keyed hashes (the id permutation)."""
    key = (int(entity), int(stream), *(int(part) for part in block))
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(1, dtype=np.uint64)
    return int(state[0])
