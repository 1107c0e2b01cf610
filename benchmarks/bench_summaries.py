"""Benchmark: per-customer summaries from a Parquet file of transactions.

Three ways of going from a Parquet file to a pandas DataFrame with one row per
customer are timed in the same run, on the same synthetic files:

- ``package``: :func:`analysis.summaries.customer_summary` on the file path
  (DuckDB scans the Parquet in place);
- ``pandas``: ``pd.read_parquet`` then the straightforward vectorised groupby
  an analyst would write for the same columns;
- ``duckdb_bare``: one bare DuckDB ``GROUP BY customer_id`` aggregate over the
  file (min/max date, distinct days, sum of amounts): the floor.

The package and pandas results are checked to agree (frequency, recency, T,
total_value, monetary_value, trailing figures) for every customer. Peak memory
of each approach is measured by running it once in a fresh subprocess (this
script with ``--worker``) and reading the child's own ``ru_maxrss``.

Usage::

    python benchmarks/bench_summaries.py [--sizes 1000000 10000000] [--repeats 3]

Synthetic data are written to ``benchmarks/_data/`` (git-ignored) and reused
when a file with the same size, seed and generator version exists. Results are
printed and written to ``benchmarks/results_summaries.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

from analysis.engines.summaries import customer_summary  # noqa: E402

DATA_DIR = HERE / "_data"
RESULTS = HERE / "results_summaries.json"

GENERATOR_VERSION = "1"
SEED = 20240601
ROWS_PER_CUSTOMER = 10
START = np.datetime64("2023-01-01", "D")
N_DAYS = 731  # 2023-01-01 .. 2024-12-31
AS_OF = pd.Timestamp("2024-12-31")
TRAILING_DAYS = 365
RETURN_SHARE = 0.02

APPROACHES = ("package", "pandas", "duckdb_bare")


# --------------------------------------------------------------------------- data


def generate(n_rows: int, seed: int = SEED) -> pa.Table:
    """Synthetic transactions: ``n_rows`` rows, about ``n_rows / 10`` customers.

    Each customer has an acquisition day uniform over the two years and an
    activity weight ``Gamma(2, 1)`` (so some customers buy much more than
    others); each row picks its customer in proportion to the weight and a
    timestamp uniform between the customer's acquisition day and the end of
    the data (with a time of day, so that several purchases can fall on one
    day). Amounts are lognormal (median about 40), rounded to cents; about 2%
    of rows are returns (negative amounts). Rows are in date order, as in an
    append-only transaction log.
    """
    rng = np.random.default_rng([seed, n_rows])
    n_customers = max(1, n_rows // ROWS_PER_CUSTOMER)
    weights = rng.gamma(2.0, 1.0, n_customers)
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    customer = np.searchsorted(cdf, rng.random(n_rows), side="right").astype(np.int64)
    customer = np.minimum(customer, n_customers - 1)
    acquired = rng.integers(0, N_DAYS, n_customers)
    span = N_DAYS - acquired[customer]
    day = acquired[customer] + np.floor(rng.random(n_rows) * span).astype(np.int64)
    seconds = rng.integers(8 * 3600, 22 * 3600, n_rows)
    micros = START.astype("datetime64[us]").astype(np.int64) + day * 86_400_000_000 + seconds * 1_000_000
    amount = np.round(rng.lognormal(np.log(40.0), 0.9, n_rows), 2)
    amount = np.maximum(amount, 0.01)
    returns = rng.random(n_rows) < RETURN_SHARE
    amount = np.where(returns, -amount, amount)

    order = np.argsort(micros, kind="stable")
    ids = pa.array([f"C{i:07d}" for i in range(n_customers)], type=pa.string())
    return pa.table(
        {
            "customer_id": ids.take(pa.array(customer[order])),
            "date": pa.array(micros[order], type=pa.timestamp("us")),
            "amount": pa.array(amount[order], type=pa.float64()),
        }
    )


def dataset(n_rows: int, seed: int = SEED) -> Path:
    """Path of the Parquet file for ``n_rows`` rows, generated if missing or stale."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"transactions_n{n_rows}_seed{seed}_v{GENERATOR_VERSION}.parquet"
    stamp = {"n_rows": str(n_rows), "seed": str(seed), "generator": GENERATOR_VERSION}
    if path.exists():
        try:
            meta = pq.read_metadata(path)
            kv = {k.decode(): v.decode() for k, v in (meta.metadata or {}).items()}
            if meta.num_rows == n_rows and all(kv.get(k) == v for k, v in stamp.items()):
                return path
        except (OSError, pa.ArrowInvalid):
            pass
    started = time.perf_counter()
    table = generate(n_rows, seed)
    table = table.replace_schema_metadata(stamp)
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    print(f"  generated {path.name} in {time.perf_counter() - started:.1f}s", flush=True)
    return path


# --------------------------------------------------------------------- approaches


def run_package(path: Path) -> pd.DataFrame:
    """The package: DuckDB scanning the Parquet file in place."""
    return customer_summary(path, AS_OF, trailing_days=TRAILING_DAYS)


def run_pandas(path: Path) -> pd.DataFrame:
    """The idiomatic pandas computation of the same summary columns."""
    as_of = AS_OF.normalize()
    window_start = as_of - pd.Timedelta(days=TRAILING_DAYS)
    df = pd.read_parquet(path, columns=["customer_id", "date", "amount"])
    df["day"] = df["date"].dt.normalize()
    df = df[df["day"] <= as_of]

    # Purchase occasions: customer-days with a non-negative amount.
    buys = df[df["amount"] >= 0]
    occ = buys.groupby(["customer_id", "day"])["amount"].sum().reset_index(name="spend")
    g = occ.groupby("customer_id")
    out = pd.DataFrame(
        {
            "first_purchase": g["day"].min(),
            "last_purchase": g["day"].max(),
            "occasions": g.size(),
            "spend": g["spend"].sum(),
            "first_spend": g["spend"].first(),  # occ is sorted by (customer, day)
        }
    )
    recent_occ = occ[occ["day"] > window_start].groupby("customer_id").size()
    out["trailing_occasions"] = recent_occ.reindex(out.index, fill_value=0)

    # Values net of returns, for customers with at least one occasion.
    money = df.groupby("customer_id")["amount"].sum()
    recent = df[df["day"] > window_start].groupby("customer_id")["amount"].sum()
    out["total_value"] = money.reindex(out.index)
    out["trailing_value"] = recent.reindex(out.index, fill_value=0.0)

    out["frequency"] = out["occasions"] - 1
    out["recency"] = (out["last_purchase"] - out["first_purchase"]).dt.days.astype(float)
    out["T"] = (as_of - out["first_purchase"]).dt.days.astype(float)
    repeat = out["spend"] - out["first_spend"]
    out["monetary_value"] = (repeat / out["frequency"]).where(out["frequency"] > 0)
    columns = [
        "first_purchase", "last_purchase", "occasions", "frequency", "recency", "T",
        "monetary_value", "total_value", "trailing_occasions", "trailing_value",
    ]  # fmt: skip
    return out[columns].reset_index()


BARE_SQL = """
SELECT customer_id, min(date) AS first_date, max(date) AS last_date,
       count(DISTINCT CAST(date AS DATE)) AS days, sum(amount) AS total
FROM read_parquet('{path}') GROUP BY customer_id
"""


def run_duckdb_bare(path: Path) -> pd.DataFrame:
    """The floor: one bare DuckDB aggregate over the file."""
    duckdb.execute("SET enable_progress_bar = false")  # default connection; no output
    return duckdb.sql(BARE_SQL.format(path=str(path).replace("'", "''"))).df()


RUNNERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    "package": run_package,
    "pandas": run_pandas,
    "duckdb_bare": run_duckdb_bare,
}


# ------------------------------------------------------------------------- checks


def check_agreement(package: pd.DataFrame, by_pandas: pd.DataFrame) -> None:
    """Assert that the package and pandas summaries agree for every customer."""
    a = package.set_index("customer_id").sort_index()
    b = by_pandas.set_index("customer_id").sort_index()
    a.index = a.index.astype(str)
    b.index = b.index.astype(str)
    assert a.index.equals(b.index), (
        f"customer sets differ: package {len(a)}, pandas {len(b)}, "
        f"only package {len(a.index.difference(b.index))}, "
        f"only pandas {len(b.index.difference(a.index))}"
    )
    for column in ("occasions", "frequency", "trailing_occasions"):
        assert (a[column].to_numpy() == b[column].to_numpy()).all(), column
    for column in ("first_purchase", "last_purchase"):
        left = a[column].to_numpy().astype("datetime64[D]")
        right = b[column].to_numpy().astype("datetime64[D]")
        assert (left == right).all(), column
    for column in ("recency", "T", "total_value", "trailing_value", "monetary_value"):
        np.testing.assert_allclose(
            a[column].to_numpy(dtype=float),
            b[column].to_numpy(dtype=float),
            rtol=1e-9,
            atol=1e-6,
            equal_nan=True,
            err_msg=column,
        )


# ------------------------------------------------------------------------- timing


def time_all(path: Path, repeats: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU seconds of each run of each approach, interleaved round by round.

    CPU seconds (user + system, all threads of this process) are recorded too:
    on a shared machine other processes steal cores and inflate wall times,
    while CPU time is much less affected, so it shows whether a slow run was
    the code or the neighbours.
    """
    wall: dict[str, list[float]] = {name: [] for name in APPROACHES}
    cpu: dict[str, list[float]] = {name: [] for name in APPROACHES}
    for _ in range(repeats):
        for name in APPROACHES:
            started, cpu_started = time.perf_counter(), time.process_time()
            frame = RUNNERS[name](path)
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - cpu_started)
            del frame
    return wall, cpu


def _vm_hwm_mb() -> float:
    """Peak RSS of this process's address space (``VmHWM``), in MiB.

    ``ru_maxrss`` is not used as the main figure: on Linux a child started by
    fork/vfork + exec inherits the parent's high-water mark in ``ru_maxrss``,
    so a worker launched from a big parent would report the parent's peak.
    ``VmHWM`` belongs to the new address space created by ``exec``.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def worker(approach: str, path: Path) -> None:
    """Run one approach once in this (fresh) process and print its peak RSS."""
    base_mb = _vm_hwm_mb()
    started = time.perf_counter()
    frame = RUNNERS[approach](path)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "approach": approach,
                "rows_out": len(frame),
                "seconds": seconds,
                "baseline_rss_mb": base_mb,
                "peak_rss_mb": _vm_hwm_mb(),
                "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def peak_memory(approach: str, path: Path) -> dict[str, float]:
    """Peak RSS of one run of ``approach`` in a fresh Python process."""
    result = subprocess.run(
        [sys.executable, __file__, "--worker", approach, "--path", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# -------------------------------------------------------------------------- main


def machine() -> dict[str, object]:
    """Where the numbers were measured."""
    return {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "duckdb": duckdb.__version__,
        "pyarrow": pa.__version__,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def bench_size(n_rows: int, repeats: int) -> dict[str, object]:
    """All measurements for one data size."""
    print(f"\n== {n_rows:,} rows", flush=True)
    load_before = os.getloadavg()[0]
    path = dataset(n_rows)
    package = run_package(path)
    by_pandas = run_pandas(path)
    check_agreement(package, by_pandas)
    bare = run_duckdb_bare(path)
    n_customers = len(package)
    print(
        f"  {n_customers:,} customers; package and pandas agree "
        f"(bare aggregate: {len(bare):,} customer ids incl. returns-only)",
        flush=True,
    )
    del package, by_pandas, bare

    load_start = os.getloadavg()[0]
    times, cpu_times = time_all(path, repeats)
    load_end = os.getloadavg()[0]
    memory = {name: peak_memory(name, path) for name in APPROACHES}
    seconds = {
        name: {"best": min(runs), "median": statistics.median(runs), "runs": runs} for name, runs in times.items()
    }
    cpu = {
        name: {"best": min(runs), "median": statistics.median(runs), "runs": runs} for name, runs in cpu_times.items()
    }
    return {
        "rows": n_rows,
        "customers": n_customers,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        # 1-minute load average before/after the timed runs: > ~1 on this 2-core
        # machine means other processes competed for the CPU (medians suffer first).
        "load_average": {
            "before_checks": load_before,
            "before_timing": load_start,
            "after_timing": load_end,
        },
        "seconds": seconds,
        "cpu_seconds": cpu,
        "ratio_pandas_over_package": {k: seconds["pandas"][k] / seconds["package"][k] for k in ("best", "median")},
        "ratio_package_over_duckdb_bare": {
            k: seconds["package"][k] / seconds["duckdb_bare"][k] for k in ("best", "median")
        },
        "peak_rss_mb": {name: round(m["peak_rss_mb"], 1) for name, m in memory.items()},
        "baseline_rss_mb": {name: round(m["baseline_rss_mb"], 1) for name, m in memory.items()},
        "rss_above_baseline_mb": {
            name: round(m["peak_rss_mb"] - m["baseline_rss_mb"], 1) for name, m in memory.items()
        },
    }


def print_table(results: list[dict]) -> None:
    """Human-readable summary of the results."""
    header = (
        f"{'rows':>11} {'customers':>10} {'approach':>12} {'best s':>8} {'median s':>9} "
        f"{'CPU s':>7} {'peak RSS MB':>12}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for r in results:
        for name in APPROACHES:
            s = r["seconds"][name]
            print(
                f"{r['rows']:>11,} {r['customers']:>10,} {name:>12} {s['best']:>8.2f} "
                f"{s['median']:>9.2f} {r['cpu_seconds'][name]['best']:>7.2f} "
                f"{r['peak_rss_mb'][name]:>12.0f}"
            )
        sp, sb = r["ratio_pandas_over_package"], r["ratio_package_over_duckdb_bare"]
        print(
            f"{'':>11} pandas/package {sp['best']:.2f}x (median {sp['median']:.2f}x); "
            f"package/bare-duckdb {sb['best']:.2f}x (median {sb['median']:.2f}x)"
        )
    largest = max(results, key=lambda r: r["rows"])
    print(f"\nTargets at {largest['rows']:,} rows:")
    for stat in ("best", "median"):
        speedup = largest["ratio_pandas_over_package"][stat]
        overhead = largest["ratio_package_over_duckdb_bare"][stat]
        print(
            f"  {stat:>6}: package >= 5x faster than pandas: "
            f"{'MET' if speedup >= 5 else 'MISSED'} ({speedup:.2f}x); "
            f"within 2x of bare DuckDB: {'MET' if overhead <= 2 else 'MISSED'} ({overhead:.2f}x)"
        )


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--worker", choices=APPROACHES, help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        worker(args.worker, args.path)
        return

    info = machine()
    print(
        f"cores {info['cores']}, Python {info['python']}, pandas {info['pandas']}, "
        f"duckdb {info['duckdb']}, pyarrow {info['pyarrow']}",
        flush=True,
    )
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"warning: load average {load:.2f} before starting; timings may be noisy")
    results = [bench_size(n, args.repeats) for n in args.sizes]
    print_table(results)
    payload = {
        "benchmark": "customer summaries from Parquet",
        "as_of": str(AS_OF.date()),
        "trailing_days": TRAILING_DAYS,
        "seed": SEED,
        "repeats": args.repeats,
        "machine": info,
        "targets": {"pandas_over_package_min": 5.0, "package_over_duckdb_bare_max": 2.0},
        "results": results,
    }
    args.output.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
