"""Learnability with and without the identity graph's features, per fraud type.

Generates configs/retail.yaml at ``--customers`` customers (one block) in this process,
builds ``synthpipe.features``'s table with the graph features, and scores the report's
learners (``synthpipe.validate.learnability.score_learners``: train on the calendar's first
three quarters, test on the rest, true labels) without and with them. Not a test:
`.venv/bin/python benchmarks/graph_learnability.py --customers 20000`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from synthpipe.features import GRAPH_FEATURES, transaction_features, without_graph
from synthpipe.model.partition import generate_partition
from synthpipe.plan import make_plan
from synthpipe.spec import Spec, load_spec, spec_from_dict
from synthpipe.validate.learnability import score_learners

SPEC = Path(__file__).resolve().parent.parent / "configs" / "retail.yaml"
MIN_BLOCK = 1_000  # the spec's smallest block


def world(customers: int, seed: int | None) -> Spec:
    """The default world at ``customers`` customers, in one block."""
    document = load_spec(SPEC).model_dump(mode="json")
    document["customers"]["count"] = customers
    document["customers"]["block_size"] = max(MIN_BLOCK, customers)
    if seed is not None:
        document["seed"] = seed
    return spec_from_dict(document)


def tables(spec: Spec) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Transactions, customers and stores of every partition, generated in memory."""
    found: dict[str, list[pa.Table]] = {"transactions": [], "customers": [], "stores": []}
    for task in make_plan(spec):
        for name, table in generate_partition(spec, task).tables.items():
            if name in found:
                found[name].append(table)
    return (
        pa.concat_tables(found["transactions"]),
        pa.concat_tables(found["customers"]),
        pa.concat_tables(found["stores"]),
    )


def scores(spec: Spec) -> dict[str, Any]:
    """Each learner's average precision, overall and per type, without and with the graph."""
    features = transaction_features(*tables(spec), graph=True)
    found: dict[str, Any] = {}
    for label, table in (("without_graph", without_graph(features)), ("with_graph", features)):
        section = score_learners(table, spec)
        found[label] = {
            learner: {
                "average_precision": s["average_precision"],
                "by_type": {k: v["average_precision"] for k, v in s["by_type"].items()},
            }
            for learner, s in section["true_labels"].items()
        }
    found["graph_features"] = list(GRAPH_FEATURES)
    return found


def main() -> None:
    """Print the scores as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=None)
    arguments = parser.parse_args()
    print(json.dumps(scores(world(arguments.customers, arguments.seed)), indent=1))


if __name__ == "__main__":
    main()
