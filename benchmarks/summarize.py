"""Markdown summary of the JSON lines written by ``benchmarks/quality.py``.

Usage (from the repository root)::

    python benchmarks/summarize.py                                  # every benchmarks/results/*.jsonl
    python benchmarks/summarize.py benchmarks/results/BSPLClusterGAN_digits.jsonl --per-seed

One row per (estimator, data set, parameters): the seeds, median and min ACC,
median NMI and ARI, KMeans's median ACC on the same data sets and seeds, fit
time, and the machine, torch and package commit the rows came from. When a
seed was run more than once with the same parameters, its latest row counts.
"""

import argparse
import json
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def load(paths):
    rows = []
    for path in paths:
        with open(path) as fh:
            rows += [dict(json.loads(line), file=str(path)) for line in fh if line.strip()]
    return rows


def _key(row):
    return row["method"], row["dataset"], json.dumps(row.get("params", {}), sort_keys=True)


def groups(rows):
    latest = {}
    for row in rows:  # later rows of the same seed replace earlier ones
        latest[(*_key(row), row["seed"])] = row
    out = {}
    for row in latest.values():
        out.setdefault(_key(row), []).append(row)
    return {k: sorted(v, key=lambda r: r["seed"]) for k, v in out.items()}


def _fmt_params(params, dataset_implied=("image_shape",)):
    shown = {k: v for k, v in params.items() if k not in dataset_implied}
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in shown.items()) or "defaults"


def table(rows, per_seed=False):
    grouped = groups(rows)
    kmeans = {(k[1], r["seed"]): r for k, v in grouped.items() if k[0] == "KMeans" for r in v}
    lines = ["| estimator | data set | parameters | seeds | median ACC | min ACC | median NMI | median ARI "
             "| KMeans median ACC | fit s (median / max) | machine, torch, commit |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (method, dataset, params), sel in sorted(grouped.items()):
        if method == "KMeans":
            continue
        acc = [r["acc"] for r in sel]
        km = [kmeans[(dataset, r["seed"])]["acc"] for r in sel if (dataset, r["seed"]) in kmeans]
        secs = [r["seconds"] for r in sel]
        first = sel[0]
        where = f"{first.get('machine', '?')}, torch {first.get('torch', '?')}, {first.get('commit', '?')}"
        lines.append(f"| {method} | {dataset} | {_fmt_params(json.loads(params))} "
                     f"| {' '.join(str(r['seed']) for r in sel)} | {np.median(acc):.3f} | {min(acc):.3f} "
                     f"| {np.median([r['nmi'] for r in sel]):.3f} | {np.median([r['ari'] for r in sel]):.3f} "
                     f"| {f'{np.median(km):.3f}' if km else '-'} | {np.median(secs):.0f} / {max(secs):.0f} | {where} |")
        if per_seed:
            for r in sel:
                k = kmeans.get((dataset, r["seed"]))
                k_acc = f"{k['acc']:.3f}" if k else "-"
                lines.append(f"|  | seed {r['seed']} | | | {r['acc']:.3f} | | {r['nmi']:.3f} | {r['ari']:.3f} "
                             f"| {k_acc} | {r['seconds']:.0f} "
                             f"| load {r.get('loadavg_1min', '?')}, {r.get('date', '?')} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", help="JSON lines files (default: benchmarks/results/*.jsonl)")
    parser.add_argument("--per-seed", action="store_true", help="one extra line per seed")
    args = parser.parse_args(argv)
    paths = args.files or sorted(RESULTS.glob("*.jsonl"))
    print(table(load(paths), per_seed=args.per_seed))


if __name__ == "__main__":
    main()
