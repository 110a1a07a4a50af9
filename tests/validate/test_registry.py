"""The check registry: what the families declare is what they emit and what they read;
the typed statistics are all produced and merge by their declared rules; `validate
--list` and the docs site's page of every check come from the registry."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from synthpipe.cli import EXIT_OK, main
from synthpipe.docs_reference import checks_reference_markdown
from synthpipe.engine.validation import collect_stats
from synthpipe.sink.manifest import load_dataset_spec
from synthpipe.storage import Location
from synthpipe.validate import statistics as st
from synthpipe.validate.checks import FAMILIES, declared_checks, evaluate
from synthpipe.validate.context import validation_context
from synthpipe.validate.merge import merge_two


class RecordingStats(dict[Any, Any]):
    """Statistics that note every key read (a walk of all items reads a family)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.read: set[str] = set()

    def get(self, key: Any, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: Any) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def items(self) -> Any:
        self.read.add("*")
        return super().items()


@pytest.fixture(scope="module")
def judged(small_dataset: Path) -> tuple[Any, Any, dict[str, Any]]:
    location = Location(str(small_dataset))
    spec, manifest = load_dataset_spec(location)
    listing = manifest.listing()
    return validation_context(spec), collect_stats(None, spec, location, listing), listing


def test_names_are_unique_and_groups_known() -> None:
    names = [c.name for c in declared_checks()]
    assert len(names) == len(set(names))
    groups = {"integrity", "fidelity", "fraud", "signature", "leakage"}
    assert {c.group for c in declared_checks()} <= groups
    assert all(c.summary and "\n" not in c.summary for c in declared_checks())


def test_every_family_emits_exactly_what_it_declares_in_order(
    judged: tuple[Any, Any, dict[str, Any]],
) -> None:
    ctx, stats, manifest = judged
    judged_names = {c.name for c in evaluate(ctx, stats, manifest)}
    for name, family in FAMILIES.items():
        emitted = [(c.name, c.group) for c in family.judge(ctx, stats, manifest)]
        declared = [(c.name, c.group) for c in family.checks if c.name in judged_names]
        assert emitted == declared, name  # the declared ones, in their order
    # every unconditional check is judged; a conditional one says when it is not
    unjudged = [c for c in declared_checks() if c.name not in judged_names]
    assert all(c.only_when for c in unjudged)
    # Jan-Mar has no Black Friday; the small world has under 20 friendly reports; amount
    # signatures are judged at fraud.difficulty 0 only (the default is 0.5); nobody comes
    # back (reactivation is off by default)
    assert {c.name for c in unjudged} == {
        "transactions.black_friday_lift",
        "customers.return_gaps",
        "labels.report_delay_friendly",
        "signature.account_takeover_value",
        "signature.refund_abuse_value",
    }


def test_every_family_reads_exactly_what_it_declares(
    judged: tuple[Any, Any, dict[str, Any]],
) -> None:
    ctx, stats, manifest = judged
    null_families = {st.null_family(t) for t in ("customers", "products", "stores")}
    for name, family in FAMILIES.items():
        recording = RecordingStats(stats)
        emitted = {c.name for c in family.judge(ctx, recording, manifest)}
        declared = family.reads()
        # what the checks judged here declare; a conditional check not judged (its
        # condition false) may leave its own statistics unread
        judged_reads = {k for c in family.checks if c.name in emitted for k in c.reads}
        read = set(recording.read)
        if "*" in read:  # a walk over the items: the families of null counts
            read.discard("*")
            assert declared & (null_families | {st.null_family("transactions")}), name
            declared = {k for k in declared if not k.endswith(".nulls.")}
            judged_reads = {k for k in judged_reads if not k.endswith(".nulls.")}
        assert judged_reads <= read <= declared, name


def test_every_declared_statistic_is_produced_and_only_those(
    judged: tuple[Any, Any, dict[str, Any]],
) -> None:
    _, stats, _ = judged
    # produced only on failure, or only by `validate --reference`
    failure_only = {st.UNREADABLE, st.ISSUES, st.REFERENCE_N, st.REFERENCE_SUM, st.REFERENCE_CROSS}
    produced = {k for k in stats if (st.merge_rule(k) and "." not in k) or k in st.declared()}
    assert set(st.declared()) - failure_only <= set(stats)
    assert produced <= set(st.declared())
    for key in stats:
        st.merge_rule(key)  # every key is declared, alone or by its family


def test_merge_follows_the_declared_rule() -> None:
    left = {st.CUSTOMERS_ID_MIN: 5, st.CUSTOMERS_ID_MAX: 5, st.PRODUCTS_PRICE_FIRST: np.ones(2)}
    right = {st.CUSTOMERS_ID_MIN: 3, st.CUSTOMERS_ID_MAX: 9, st.PRODUCTS_PRICE_FIRST: np.zeros(2)}
    merged = merge_two(left, right)
    assert merged[st.CUSTOMERS_ID_MIN] == 3
    assert merged[st.CUSTOMERS_ID_MAX] == 9
    assert merged[st.PRODUCTS_PRICE_FIRST].tolist() == [1.0, 1.0]
    issues = merge_two({st.ISSUES: ["a"] * 40}, {st.ISSUES: ["b"] * 40})
    assert len(issues[st.ISSUES]) == st.MAX_ISSUES
    with pytest.raises(KeyError, match="not declared"):
        merge_two({st.StatKey("customers.age_count"): 1}, {st.StatKey("customers.age_count"): 1})


def test_validate_list_prints_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--list"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    listed = [line.split()[0] for line in lines if line.startswith("  ")]
    assert listed == [c.name for c in declared_checks()]
    assert [line[:-1] for line in lines if not line.startswith(" ")] == list(FAMILIES)


def test_the_checks_page_lists_every_check_by_family_in_order() -> None:
    # the generated page of the docs site (docs/hooks.py adds it at build time)
    page = checks_reference_markdown()
    listed: list[tuple[str, str, str]] = []
    family = ""
    for line in page.splitlines():
        if line.startswith("## "):
            family = line[3:].strip()
        row = re.match(r"^\| `([a-z_.0-9]+)` \| (\w+) \|", line)
        if row:
            listed.append((row.group(1), row.group(2), family))
    expected = [(c.name, c.group, name) for name, fam in FAMILIES.items() for c in fam.checks]
    assert listed == expected
    assert len(listed) == len(declared_checks())
