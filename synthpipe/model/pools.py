"""Faker value pools, built once per (locales, seed) and sampled vectorised.

Calling Faker per row manages about 2,500 customers/s; instead each locale's Faker
instance (seeded per instance, never the class) draws a few thousand names and streets
once. Rows then index into the de-duplicated pools, whose value counts keep Faker's own
name frequencies. The pools depend on the Faker version, which the manifest records.
"""

from __future__ import annotations

import unicodedata
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
from faker import Faker

from synthpipe.seeds import Entity, Stream, integer_seed

NAME_DRAWS = 4_000  # draws per locale and name list; enough to cover Faker's lists
STREET_DRAWS = 3_000  # street names per address locale
POSTCODES_PER_STATE = 40  # postcodes per state where Faker knows the state's ranges
POSTCODE_DRAWS = 2_000  # postcodes for locales without per-state ranges
FALLBACK_ASCII = "customer"  # email local part when a name has no Latin letters


@dataclass(frozen=True)
class NamePool:
    """Unique first and last names across the locale mix, with per-locale sampling tables."""

    locales: tuple[str, ...]
    locale_weights: np.ndarray
    first_names: pa.Array  # unique first names (female then male lists merged)
    last_names: pa.Array  # unique last names
    first_ascii: pa.Array  # e-mail-safe lower-case form of each first name
    last_ascii: pa.Array
    # Per locale: cumulative counts and global indices of its female / male / last names.
    female: tuple[tuple[np.ndarray, np.ndarray], ...]
    male: tuple[tuple[np.ndarray, np.ndarray], ...]
    last: tuple[tuple[np.ndarray, np.ndarray], ...]


@dataclass(frozen=True)
class AddressPool:
    """Street names and postcodes of the country's address locale."""

    streets: pa.Array
    number_first: bool  # "12 Main St" (True) or "Hauptstraße 12" (False)
    postcodes: pa.Array
    postcode_state_offsets: np.ndarray | None  # per state slice into postcodes, or None


def email_safe(name: str) -> str:
    """Lower-case ASCII letters of a name, for e-mail local parts."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(ch for ch in decomposed.lower() if "a" <= ch <= "z")
    return letters or FALLBACK_ASCII


def _locale_key(locale: str) -> int:
    return zlib.crc32(locale.encode("utf-8"))


def _faker(locale: str, seed: int) -> Faker:
    fake = Faker(locale)
    fake.seed_instance(integer_seed(seed, Entity.POOLS, Stream.FAKER_POOL, _locale_key(locale)))
    return fake


def _counted(values: list[str], index: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    unique, counts = np.unique(np.asarray(values, dtype=object), return_counts=True)
    global_index = np.asarray([index[str(v)] for v in unique], dtype=np.int32)
    return np.cumsum(counts).astype(np.float64), global_index


@lru_cache(maxsize=8)
def name_pool(locales: tuple[tuple[str, float], ...], seed: int) -> NamePool:
    """Build the name pool of a locale mix ``((locale, weight), ...)`` for one seed."""
    draws: dict[str, tuple[list[str], list[str], list[str]]] = {}
    for locale, _ in locales:
        fake = _faker(locale, seed)
        female = [fake.first_name_female() for _ in range(NAME_DRAWS)]
        male = [fake.first_name_male() for _ in range(NAME_DRAWS)]
        last = [fake.last_name() for _ in range(NAME_DRAWS)]
        draws[locale] = (female, male, last)
    firsts = sorted({n for f, m, _ in draws.values() for n in (*f, *m)})
    lasts = sorted({n for _, _, last in draws.values() for n in last})
    first_index = {n: i for i, n in enumerate(firsts)}
    last_index = {n: i for i, n in enumerate(lasts)}
    weights = np.asarray([w for _, w in locales], dtype=np.float64)
    return NamePool(
        locales=tuple(loc for loc, _ in locales),
        locale_weights=weights / weights.sum(),
        first_names=pa.array(firsts, pa.string()),
        last_names=pa.array(lasts, pa.string()),
        first_ascii=pa.array([email_safe(n) for n in firsts], pa.string()),
        last_ascii=pa.array([email_safe(n) for n in lasts], pa.string()),
        female=tuple(_counted(draws[loc][0], first_index) for loc, _ in locales),
        male=tuple(_counted(draws[loc][1], first_index) for loc, _ in locales),
        last=tuple(_counted(draws[loc][2], last_index) for loc, _ in locales),
    )


@lru_cache(maxsize=8)
def address_pool(locale: str, state_codes: tuple[str, ...], seed: int) -> AddressPool:
    """Build the street and postcode pool of the country's address locale."""
    fake = _faker(locale, seed)
    streets = sorted({fake.street_name() for _ in range(STREET_DRAWS)})
    number_first = fake.street_address()[:1].isdigit()
    in_state = getattr(fake, "postcode_in_state", None)
    offsets: np.ndarray | None = None
    postcodes: list[str]
    if in_state is not None and _knows_states(fake, state_codes):
        postcodes = []
        for code in state_codes:
            postcodes.extend(str(in_state(code)) for _ in range(POSTCODES_PER_STATE))
        offsets = np.arange(0, len(postcodes) + 1, POSTCODES_PER_STATE, dtype=np.int64)
    else:
        postcodes = [str(fake.postcode()) for _ in range(POSTCODE_DRAWS)]
    return AddressPool(
        streets=pa.array(streets, pa.string()),
        number_first=number_first,
        postcodes=pa.array(postcodes, pa.string()),
        postcode_state_offsets=offsets,
    )


def _knows_states(fake: Faker, state_codes: tuple[str, ...]) -> bool:
    try:
        for code in state_codes:
            fake.postcode_in_state(code)
    except (AttributeError, KeyError, ValueError):
        return False
    return True


def sample_counted(table: tuple[np.ndarray, np.ndarray], uniforms: np.ndarray) -> np.ndarray:
    """Sample global indices from a (cumulative counts, indices) table with uniforms."""
    cumulative, indices = table
    position = np.searchsorted(cumulative, uniforms * cumulative[-1], side="right")
    return np.asarray(indices[np.minimum(position, indices.shape[0] - 1)])
