"""The fit report: every fitted field with its estimate, interval and source columns, and
every field left at its default with the reason, as JSON and HTML next to the spec."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import fsspec
import yaml

from synthpipe.fit import FitResult
from synthpipe.storage import write_atomic


def report_document(result: FitResult, sample_name: str) -> dict[str, Any]:
    """The report as plain data (aggregates only: no value of the sample's rows)."""
    return {
        "sample": {"file": sample_name, "rows": result.rows, "customers": result.customers},
        "interval": "95% normal bootstrap interval over customers (Poisson(1) weights):"
        " the estimate -/+ Student's t(0.975, replicates - 1) x the replicates' deviation",
        "estimates": [
            {
                "field": e.field,
                "estimate": e.value,
                "low": e.low,
                "high": e.high,
                "columns": list(e.columns),
                "method": e.method,
            }
            for e in result.estimates
        ],
        "defaults": result.defaults,
        "judgement": _judgement(result),
        "notes": result.notes,
        "privacy": result.privacy or {"epsilon": None, "note": "no differential privacy asked"},
    }


def _judgement(result: FitResult) -> dict[str, Any]:
    """The sample and a small world of the fitted spec side by side, with the verdict."""
    if result.verdict is None:
        why = (
            "not judged under --epsilon: the comparison shows the sample's own aggregates"
            if result.privacy
            else "not judged"
        )
        return {"verdict": None, "note": why, "rows": []}
    return {
        "world": f"{result.world_customers:,} customers of the fitted spec, generated in"
        " process (legitimate sales and refunds); distances: total variation of the"
        " shares, Kolmogorov-Smirnov of the sale amounts",
        "verdict": result.verdict,
        "rows": [
            {
                "comparison": c.name,
                "sample": c.sample,
                "world": c.world,
                "distance": round(c.distance, 4),
                "target": c.target,
                "passed": c.passed,
            }
            for c in result.judgement
        ],
    }


def _cell(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(f"{v:g}" for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {v:g}" for k, v in value.items())
    return str(value)


def report_html(document: dict[str, Any]) -> str:
    """A small self-contained HTML page of the report."""
    rows = "".join(
        f"<tr><td>{html.escape(e['field'])}</td><td>{html.escape(_cell(e['estimate']))}</td>"
        f"<td>{html.escape(_cell(e['low']))}</td><td>{html.escape(_cell(e['high']))}</td>"
        f"<td>{html.escape(', '.join(e['columns']))}</td><td>{html.escape(e['method'])}</td></tr>"
        for e in document["estimates"]
    )
    defaults = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
        for k, v in document["defaults"].items()
    )
    sample = document["sample"]
    privacy = document["privacy"]
    notes = "".join(f"<p>Note: {html.escape(n)}</p>" for n in document.get("notes", []))
    budget = (
        f"<p>Differential privacy: epsilon {privacy['epsilon']}, spent {privacy['spent']}"
        f" ({html.escape(privacy['mechanism'])}).</p>"
        if privacy.get("epsilon") is not None
        else ""
    )
    judged = document.get("judgement", {})
    side = "".join(
        f"<tr><td>{html.escape(r['comparison'])}</td><td>{html.escape(r['sample'])}</td>"
        f"<td>{html.escape(r['world'])}</td><td>{r['distance']:.3f}</td><td>{r['target']:g}</td>"
        f"<td>{'yes' if r['passed'] else '<b>no</b>'}</td></tr>"
        for r in judged.get("rows", [])
    )
    judgement = (
        f"<h2>Sample and fitted world side by side</h2><p>{html.escape(judged['verdict'])}"
        f" ({html.escape(judged['world'])}).</p><table><tr><th>comparison</th><th>sample</th>"
        f"<th>world</th><th>distance</th><th>target</th><th>within</th></tr>{side}</table>"
        if judged.get("verdict")
        else ""
    )
    return (
        "<!doctype html><meta charset=utf-8><title>synthpipe fit report</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;"
        "border-bottom:1px solid #ddd;vertical-align:top}</style>"
        f"<h1>Fit report</h1><p>{sample['rows']:,} rows, {sample['customers']:,} customers;"
        f" intervals: {html.escape(document['interval'])}.</p>{notes}{budget}{judgement}"
        "<h2>Estimated</h2><table><tr><th>field</th><th>estimate</th><th>low</th>"
        f"<th>high</th><th>columns</th><th>method</th></tr>{rows}</table>"
        "<h2>Left at the default</h2><table><tr><th>field</th><th>why</th></tr>"
        f"{defaults}</table>"
    )


def write_text_atomically(path: Path, text: str) -> None:
    """A local file that appears whole or not at all."""
    write_atomic(fsspec.filesystem("file"), str(path.resolve()), text.encode())


def fit_paths(spec_path: str) -> tuple[Path, Path, Path]:
    """The files ``write_fit`` writes: the spec, and its report as JSON and HTML beside it."""
    spec_file = Path(spec_path)
    stem = spec_file.with_suffix("")
    return spec_file, Path(f"{stem}.fit.json"), Path(f"{stem}.fit.html")


def write_fit(result: FitResult, spec_path: str, sample_name: str) -> tuple[Path, Path, Path]:
    """Write the spec (YAML), the report (JSON) and its HTML page, each atomically."""
    spec_file, json_file, html_file = fit_paths(spec_path)
    document = report_document(result, sample_name)
    spec_text = (
        "# fitted by `synthpipe fit`; see the fit report beside this file\n"
        + yaml.safe_dump(result.spec.model_dump(mode="json", exclude_none=True), sort_keys=False)
    )
    write_text_atomically(spec_file, spec_text)
    write_text_atomically(json_file, json.dumps(document, indent=2))
    write_text_atomically(html_file, report_html(document))
    return spec_file, json_file, html_file
