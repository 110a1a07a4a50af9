"""Faker value pools, built once per (locales, seed) and sampled vectorised.

Calling Faker per row manages about 2,500 customers/s; instead each locale's name lists
are taken whole from its Faker person provider, with the provider's own weights (a name
listed twice weighs twice), and rows sample from them vectorised. A locale whose
provider overrides how names are chosen is sampled through Faker instead: its instance
(seeded per instance, never the class) draws a few thousand names once, and their counts
are the weights. Streets and postcodes are drawn the same way. The pools depend on the
Faker version, which the manifest records.
"""

from __future__ import annotations

import unicodedata
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
from anyascii import anyascii
from faker import Faker
from faker.providers.person import Provider as PersonProvider

from synthpipe.seeds import Entity, Stream, integer_seed

NAME_DRAWS = 4_000  # draws per name list of a locale Faker must be asked for names
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
    # Per locale: cumulative weights and global indices of its female / male / last names.
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


def email_safe(name: str, romanized: dict[str, str] | None = None) -> str:
    """Lower-case ASCII letters of a name, for e-mail local parts. A Latin-script name
    keeps its letters without their accents; a name in another script is romanized: by
    the locale's own reading where its Faker provider lists one (Japanese names come with
    theirs), else by anyascii's transliteration (Иван -> ivan, 王芳 -> wangfang)."""
    if _has_other_script(name):
        name = (romanized or {}).get(name) or anyascii(name)
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(ch for ch in decomposed.lower() if "a" <= ch <= "z")
    return letters or FALLBACK_ASCII


def _has_other_script(name: str) -> bool:
    """True when the name holds a letter of a script other than Latin."""
    return any(ch.isalpha() and not unicodedata.name(ch, "").startswith("LATIN") for ch in name)


ROMANIZED_PAIRS = ("first_name_female_pairs", "first_name_male_pairs", "last_name_pairs")


def _romanized(provider: PersonProvider) -> dict[str, str]:
    """The provider's own romanized reading of each name, where it lists (name, ...,
    romanized) tuples (ja_JP does)."""
    readings: dict[str, str] = {}
    for attribute in ROMANIZED_PAIRS:
        for pair in getattr(provider, attribute, ()) or ():
            if isinstance(pair, tuple) and len(pair) >= 2:
                readings[str(pair[0])] = str(pair[-1])
    return readings


def _locale_key(locale: str) -> int:
    return zlib.crc32(locale.encode("utf-8"))


def _faker(locale: str, seed: int) -> Faker:
    fake = Faker(locale)
    fake.seed_instance(integer_seed(seed, Entity.POOLS, Stream.FAKER_POOL, _locale_key(locale)))
    return fake


Names = tuple[list[str], np.ndarray]  # names and their weights (repeats allowed)
NAME_LISTS = (  # person-provider method -> its list attribute, then the fallback list
    ("first_name_female", "first_names_female"),
    ("first_name_male", "first_names_male"),
    ("last_name", "last_names"),
)


def _weighted(
    names: list[str], weights: np.ndarray, index: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative weights, global indices) of the distinct names, repeats summed."""
    unique, inverse = np.unique(np.asarray(names, dtype=object), return_inverse=True)
    summed = np.bincount(inverse.ravel(), weights=weights, minlength=unique.shape[0])
    global_index = np.asarray([index[str(v)] for v in unique], dtype=np.int32)
    return np.cumsum(summed), global_index


def _listed(provider: PersonProvider, method: str, attribute: str) -> Names | None:
    """The provider's list behind ``method`` with its weights, when the method is the
    base one that picks from that list (else None: the locale has its own logic)."""
    if getattr(type(provider), method) is not getattr(PersonProvider, method):
        return None
    if method != "last_name" and not hasattr(provider, attribute):
        attribute = "first_names"  # the base method falls back to the shared list
    elements = getattr(provider, attribute, None)
    if not elements:
        return None
    if isinstance(elements, dict):
        return [str(k) for k in elements], np.asarray(list(elements.values()), np.float64)
    return [str(e) for e in elements], np.ones(len(elements), np.float64)


def _drawn(fake: Faker, method: str) -> Names:
    """NAME_DRAWS names from Faker's own method; each draw weighs one."""
    draw = getattr(fake, method)
    return [str(draw()) for _ in range(NAME_DRAWS)], np.ones(NAME_DRAWS, np.float64)


def _locale_names(locale: str, seed: int) -> tuple[Names, Names, Names, dict[str, str]]:
    """Female first, male first and last names of one locale, with weights, and the
    locale's own romanized readings of them (often none)."""
    fake = _faker(locale, seed)
    provider = next(p for p in fake.providers if isinstance(p, PersonProvider))
    female, male, last = (
        _listed(provider, method, attribute) or _drawn(fake, method)
        for method, attribute in NAME_LISTS
    )
    return female, male, last, _romanized(provider)


@lru_cache(maxsize=8)
def name_pool(locales: tuple[tuple[str, float], ...], seed: int) -> NamePool:
    """Build the name pool of a locale mix ``((locale, weight), ...)`` for one seed."""
    lists = {locale: _locale_names(locale, seed) for locale, _ in locales}
    firsts = sorted({n for f, m, _, _ in lists.values() for n in (*f[0], *m[0])})
    lasts = sorted({n for _, _, last, _ in lists.values() for n in last[0]})
    readings = {name: reading for *_, r in lists.values() for name, reading in r.items()}
    first_index = {n: i for i, n in enumerate(firsts)}
    last_index = {n: i for i, n in enumerate(lasts)}
    weights = np.asarray([w for _, w in locales], dtype=np.float64)
    return NamePool(
        locales=tuple(loc for loc, _ in locales),
        locale_weights=weights / weights.sum(),
        first_names=pa.array(firsts, pa.string()),
        last_names=pa.array(lasts, pa.string()),
        first_ascii=pa.array([email_safe(n, readings) for n in firsts], pa.string()),
        last_ascii=pa.array([email_safe(n, readings) for n in lasts], pa.string()),
        female=tuple(_weighted(*lists[loc][0], first_index) for loc, _ in locales),
        male=tuple(_weighted(*lists[loc][1], first_index) for loc, _ in locales),
        last=tuple(_weighted(*lists[loc][2], last_index) for loc, _ in locales),
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
    """Sample global indices from a (cumulative weights, indices) table with uniforms."""
    cumulative, indices = table
    position = np.searchsorted(cumulative, uniforms * cumulative[-1], side="right")
    return np.asarray(indices[np.minimum(position, indices.shape[0] - 1)])
