"""E-mail addresses of customers whose names are in a non-Latin script are built from the
romanized name (before: `customer.customer4@example.com` for every Japanese name)."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest
from helpers import small_spec

from synthpipe.model.customer_tables import generate_customers
from synthpipe.model.pools import FALLBACK_ASCII, email_safe


@pytest.mark.parametrize("locale", ["ja_JP", "ru_RU", "zh_CN", "el_GR", "ko_KR"])
def test_non_latin_names_give_romanized_unique_emails(locale: str) -> None:
    table = generate_customers(small_spec(**{"customers.locales": {locale: 1.0}}), 0)
    local_parts = [e.split("@")[0] for e in table.column("email").to_pylist()]
    assert len(set(local_parts)) == len(local_parts)
    assert all(part.isascii() for part in local_parts)
    fallback = sum(FALLBACK_ASCII in part for part in local_parts)
    assert fallback == 0, f"{fallback} of {len(local_parts)} addresses fell back"
    # the first names really are non-Latin, so the romanization did the work
    first = pc.unique(table.column("first_name").combine_chunks().dictionary).to_pylist()
    assert any(not name.isascii() for name in first)


def test_the_locales_own_reading_wins_and_latin_names_keep_their_letters() -> None:
    assert email_safe("明美", {"明美": "Akemi"}) == "akemi"
    assert email_safe("Иван") == "ivan"
    assert email_safe("José") == "jose"
    assert email_safe("Weiß") == "wei"  # Latin script: unchanged from before (bytes pinned)
