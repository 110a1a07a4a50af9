"""Comparison with a user's sample of real transactions: a sample drawn from the same
process scores high; a sample whose amounts are ten times larger fails on amounts."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
import pyarrow.dataset as ds
import pytest
from helpers import QUICK_VALIDATE

from synthpipe.cli import EXIT_BAD_INPUT, EXIT_FAILURE, main
from synthpipe.model.money import CENTS, decimal_to_cents
from synthpipe.validate.results import FidelityReport, Verdict, load_report


def _sample(dataset: Path, scale: float) -> pa.Table:
    table = ds.dataset(dataset / "transactions", format="parquet", partitioning="hive").to_table()
    table = table.take(pa.array(range(0, table.num_rows, 3)))
    amount = pa.array(decimal_to_cents(table.column("amount")) / CENTS * scale)
    return pa.table(
        {
            "timestamp": pc.strftime(table.column("ts"), format="%Y-%m-%dT%H:%M:%S"),
            "order_total": amount,
            "items": table.column("items"),
            "channel": table.column("channel").cast(pa.string()),
            "payment_method": table.column("payment_method").cast(pa.string()),
        }
    )


MAP = ["--reference-map", "ts=timestamp", "--reference-map", "amount=order_total"]


def test_a_sample_of_the_same_process_scores_high(dataset_copy: Path, tmp_path: Path) -> None:
    path = tmp_path / "real.csv"
    pv.write_csv(_sample(dataset_copy, 1.0), path)
    assert main([*QUICK_VALIDATE, str(dataset_copy), "--reference", str(path), *MAP]) == 0
    report = load_report((dataset_copy / "_fidelity" / "report.json").read_text())
    reference = {t.name: t for t in report.tests if t.group == "reference"}
    assert set(reference) >= {
        "reference.shape_amount", "reference.shape_hour", "reference.shape_weekday",
        "reference.shape_channel", "reference.column_shapes", "reference.column_pair_trends",
    }  # fmt: skip
    assert _value(reference["reference.column_shapes"]) > 0.95
    assert _value(reference["reference.column_pair_trends"]) > 0.95


def test_a_different_sample_fails_on_the_differing_column(
    dataset_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "real.parquet"
    import pyarrow.parquet as pq

    pq.write_table(_sample(dataset_copy, 10.0), path)
    assert (
        main([*QUICK_VALIDATE, str(dataset_copy), "--reference", str(path), *MAP]) == EXIT_FAILURE
    )
    assert "reference.shape_amount" in capsys.readouterr().err


def test_reference_mapping_errors_are_bad_input(
    dataset_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "real.csv"
    pv.write_csv(_sample(dataset_copy, 1.0), path)
    assert (
        main(
            [
                "validate",
                str(dataset_copy),
                "--reference",
                str(path),
                "--reference-map",
                "amount=missing",
            ]
        )
        == EXIT_BAD_INPUT
    )
    assert "has no column 'missing'" in capsys.readouterr().err
    assert (
        main(
            [
                *QUICK_VALIDATE,
                str(dataset_copy),
                "--reference",
                str(path),
                "--reference-map",
                "amount",
            ]
        )
        == EXIT_BAD_INPUT
    )


@pytest.mark.parametrize(
    ("csv", "arguments", "message"),
    [
        (
            "amount,channel\n12.5,online\nabc,in_store\n",
            [],
            "--reference column 'amount' must hold a number: Failed to parse string: 'abc'",
        ),
        (
            "ts,amount\n2024-01-05 10:00:00,3\nyesterday,4\n",
            [],
            "--reference column 'ts' must hold an ISO 8601 time: Failed to parse string:"
            " 'yesterday'",
        ),
        (
            "ts,total\n2024-01-05 10:00:00,3\n",
            ["--reference-map", "revenue=total"],
            "--reference-map 'revenue' is not one of our columns (ts, amount, items,",
        ),
    ],
)
def test_unusable_reference_values_are_bad_input(
    dataset_copy: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    csv: str,
    arguments: list[str],
    message: str,
) -> None:
    path = tmp_path / "real.csv"
    path.write_text(csv)
    before = (dataset_copy / "_fidelity" / "report.json").read_bytes()
    code = main([*QUICK_VALIDATE, str(dataset_copy), "--reference", str(path), *arguments])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_BAD_INPUT
    assert len(err) == 1, err
    assert message in err[0], err
    assert (dataset_copy / "_fidelity" / "report.json").read_bytes() == before


def _value(test: Verdict) -> float:
    """A test's value, which a reference test always has."""
    assert test.value is not None, test
    return test.value


def _reference_report(
    dataset: Path, sample: pa.Table, tmp_path: Path, *mapping: str
) -> FidelityReport:
    path = tmp_path / "real.parquet"
    import pyarrow.parquet as pq

    pq.write_table(sample, path)
    main([*QUICK_VALIDATE, str(dataset), "--reference", str(path), *mapping])
    return load_report((dataset / "_fidelity" / "report.json").read_text())


def _notes(report: FidelityReport) -> tuple[str, ...]:
    """The reference section's notes."""
    assert report.reference is not None, "no reference section"
    return report.reference.notes


def test_a_date_only_sample_compares_no_hours(dataset_copy: Path, tmp_path: Path) -> None:
    """A log with dates and no time of day (the common retail export) says so; weekdays
    and the rest are still compared."""
    sample = _sample(dataset_copy, 1.0)
    dates = pc.utf8_slice_codeunits(sample.column("timestamp"), 0, 10)
    sample = sample.set_column(0, "timestamp", dates)
    report = _reference_report(dataset_copy, sample, tmp_path, *MAP)
    names = {t.name for t in report.tests if t.group == "reference"}
    assert "reference.shape_hour" not in names
    assert "reference.shape_weekday" in names
    assert any("without a time of day" in n for n in _notes(report))
    trends = next(t for t in report.tests if t.name == "reference.column_pair_trends")
    assert "hour" not in trends.explanation


def test_a_constant_column_is_left_out_never_a_garbage_score(
    dataset_copy: Path, tmp_path: Path
) -> None:
    """Times all at noon (a date-only log mapped to noon) once scored the pair trends at
    -1.5e307: a column without spread is left out of shapes and correlations, with a note."""
    sample = _sample(dataset_copy, 1.0)
    noon = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(sample.column("timestamp"), 0, 10), "12:00:00", "T"
    )
    sample = sample.set_column(0, "timestamp", noon)
    report = _reference_report(dataset_copy, sample, tmp_path, *MAP)
    reference = {t.name: t for t in report.tests if t.group == "reference"}
    assert "reference.shape_hour" not in reference
    assert any("hour has a single value" in n for n in _notes(report))
    for test in reference.values():
        assert 0.0 <= _value(test) <= 1.0, test


def test_a_small_sample_of_the_same_process_is_not_judged_a_bad_fit(
    dataset_copy: Path, tmp_path: Path
) -> None:
    sample = _sample(dataset_copy, 1.0)
    small = sample.take(pa.array(range(0, sample.num_rows, sample.num_rows // 200)))
    assert 150 < small.num_rows < 260
    report = _reference_report(dataset_copy, small, tmp_path, *MAP)
    reference = [t for t in report.tests if t.group == "reference"]
    assert reference
    assert all(t.passed for t in reference), [t for t in reference if not t.passed]
    # the gates were lowered by the sampling spread of about 0.87 / sqrt(n) for KS
    shape = next(t for t in reference if t.name == "reference.shape_amount")
    assert shape.threshold is not None
    assert shape.threshold < 0.6 - 3 * 0.8 / small.num_rows**0.5 + 0.01
