"""Benchmark at scale: customer summaries from 1M to 50M rows, DuckDB, pandas and Spark.

Each approach goes from a hive-partitioned Parquet folder of transactions
(``month=YYYY-MM/part-0.parquet``) to a pandas DataFrame with one row per
customer:

- ``package``: :func:`analysis.summaries.customer_summary` on the folder,
  embedded DuckDB with its default memory limit (80% of RAM);
- ``package_2gb``: the same with ``memory_limit="2GB"`` (DuckDB spills to
  disk beyond it: the out-of-core configuration);
- ``pandas``: the pandas idiom of ``bench_summaries.run_pandas``
  (``pd.read_parquet(folder)`` then a vectorised groupby);
- ``duckdb_bare``: the bare DuckDB ``GROUP BY`` of
  ``bench_summaries.run_duckdb_bare`` over ``folder/**/*.parquet``;
- ``spark``: ``customer_summary(folder, ..., engine="spark")`` in a
  ``local[2]`` session (driver memory 4g), at 10M rows and below only, for
  reference. The summary is timed after the session is up; the session
  start is reported separately.

Every run is a fresh subprocess (this script with ``--worker``), so that its
wall time, CPU time and peak RSS (``VmHWM``) belong to that run alone. For
Spark, the JVM (a child of the Python worker) is measured separately: its
``VmHWM`` polled before the session stops, and ``RUSAGE_CHILDREN`` after the
JVM has exited. The first round of every approach runs under
``/usr/bin/time -v``, whose "Maximum resident set size" confirms the
``VmHWM`` figure.

Usage::

    python benchmarks/bench_scale.py [--sizes 1000000 10000000 50000000] [--repeats 3] [--no-spark]

Data are written to ``benchmarks/_data/`` (git-ignored) and reused when the
folder's stamp matches. Results go to ``benchmarks/results_scale.json`` and
the plot to ``benchmarks/scale.png``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # bench_summaries, next to this file
sys.path.insert(0, str(HERE.parent / "src"))  # run from a checkout without installing

from analysis.engines.summaries import customer_summary  # noqa: E402
from bench_summaries import (  # noqa: E402
    AS_OF,
    DATA_DIR,
    GENERATOR_VERSION,
    SEED,
    TRAILING_DAYS,
    _vm_hwm_mb,
    check_agreement,
    generate,
    machine,
    run_duckdb_bare,
    run_pandas,
)

RESULTS = HERE / "results_scale.json"
PLOT = HERE / "scale.png"
LAYOUT_VERSION = "1"
APPROACHES = ("package", "package_2gb", "pandas", "duckdb_bare", "spark")
SPARK_MAX_ROWS = 10_000_000
OUT_OF_CORE_LIMIT_MB = 4096
WORKER_TIMEOUT_S = 3600
TIME_V = "/usr/bin/time"


# --------------------------------------------------------------------------- data


def partitioned_dataset(n_rows: int, seed: int = SEED) -> Path:
    """Folder of Parquet files for ``n_rows`` rows, hive-partitioned by month; generated if missing or stale.

    The rows are those of ``bench_summaries.generate(n_rows, seed)`` (the same
    rows as the single-file dataset of that size), which are in date order, so
    each month is one contiguous slice, written as ``month=YYYY-MM/part-0.parquet``.
    The folder is written under a temporary name and renamed when complete;
    ``_stamp.json`` (ignored by DuckDB's ``*.parquet`` glob, pyarrow and Spark,
    which skip names starting with ``_``) records the parameters.
    """
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    folder = DATA_DIR / f"transactions_n{n_rows}_seed{seed}_v{GENERATOR_VERSION}_by_month"
    stamp = {"n_rows": str(n_rows), "seed": str(seed), "generator": GENERATOR_VERSION, "layout": LAYOUT_VERSION}
    stamp_file = folder / "_stamp.json"
    if stamp_file.exists():
        try:
            written = json.loads(stamp_file.read_text())
            if all(written.get(k) == v for k, v in stamp.items()):
                return folder
        except (OSError, ValueError):
            pass
    started = time.perf_counter()
    table = generate(n_rows, seed)
    generated = time.perf_counter() - started
    micros = table.column("date").combine_chunks().cast(pa.int64()).to_numpy()
    months = micros.astype("datetime64[us]").astype("datetime64[M]")
    labels, starts = np.unique(months, return_index=True)  # rows are in date order
    assert (np.diff(micros) >= 0).all(), "generate() rows are expected in date order"
    ends = [*starts[1:], len(months)]
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    rows_per_month = {}
    for label, start, end in zip(labels, starts, ends, strict=True):
        part = tmp / f"month={label}"
        part.mkdir()
        pq.write_table(table.slice(start, end - start).replace_schema_metadata(stamp), part / "part-0.parquet")
        rows_per_month[str(label)] = int(end - start)
    del table, micros, months
    (tmp / "_stamp.json").write_text(
        json.dumps({**stamp, "rows_per_month": rows_per_month, "generate_seconds": round(generated, 1)}, indent=1)
    )
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)
    print(f"  generated {folder.name} in {time.perf_counter() - started:.1f}s", flush=True)
    return folder


def folder_mb(folder: Path) -> float:
    """Size of the Parquet files under ``folder`` in MiB."""
    return round(sum(p.stat().st_size for p in folder.rglob("*.parquet")) / 2**20, 1)


# --------------------------------------------------------------------- approaches


def _spark_builder():
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .appName("bench_scale")
        .config("spark.driver.memory", "4g")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )


def run_approach(approach: str, folder: Path) -> pd.DataFrame:
    """One approach from the partitioned folder to a pandas DataFrame (Spark: the session must be up)."""
    if approach == "package":
        return customer_summary(folder, AS_OF, trailing_days=TRAILING_DAYS)
    if approach == "package_2gb":
        return customer_summary(folder, AS_OF, trailing_days=TRAILING_DAYS, memory_limit="2GB")
    if approach == "pandas":
        return run_pandas(folder)  # pd.read_parquet reads the folder (month= partitions, not requested)
    if approach == "duckdb_bare":
        return run_duckdb_bare(folder / "**" / "*.parquet")  # DuckDB detects the hive layout itself
    if approach == "spark":
        return customer_summary(folder, AS_OF, trailing_days=TRAILING_DAYS, engine="spark")
    raise ValueError(approach)


def _status_kb(pid: int, field: str) -> int | None:
    """A ``kB`` field (``VmHWM``, ``VmRSS``) of ``/proc/<pid>/status``, or None."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _parent_pid(pid: int) -> int | None:
    """Parent process id of ``pid`` from ``/proc/<pid>/stat``."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


def _cpu_seconds_of(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` (all its threads) from ``/proc/<pid>/stat``."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker(approach: str, folder: Path, save: Path | None) -> None:
    """Run one approach once in this (fresh) process; print one JSON line of measurements."""
    out: dict[str, object] = {"approach": approach, "load_1min_at_start": os.getloadavg()[0]}
    spark = None
    if approach == "spark":
        started = time.perf_counter()
        spark = _spark_builder().getOrCreate()
        out["session_start_seconds"] = time.perf_counter() - started
        jvm_pid = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
        out["jvm_pid"] = jvm_pid
        out["jvm_is_child"] = _parent_pid(jvm_pid) == os.getpid()
        jvm_cpu_start = _cpu_seconds_of(jvm_pid)
    out["baseline_rss_mb"] = _vm_hwm_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    frame = run_approach(approach, folder)
    out["seconds"] = time.perf_counter() - started
    out["cpu_seconds"] = time.process_time() - cpu_started  # this process, all threads
    out["peak_rss_mb"] = _vm_hwm_mb()
    out["rows_out"] = len(frame)
    if spark is not None:
        out["jvm_cpu_seconds"] = _cpu_seconds_of(jvm_pid) - jvm_cpu_start
        out["jvm_peak_rss_mb"] = (_status_kb(jvm_pid, "VmHWM") or 0) / 1024  # before the session stops
        stopped = time.perf_counter()
        gateway = spark.sparkContext._gateway
        spark.stop()
        proc = getattr(gateway, "proc", None)
        gateway.shutdown()
        if proc is not None:  # the JVM exits when its stdin closes; wait so that RUSAGE_CHILDREN counts it
            proc.stdin.close()
            proc.wait(timeout=60)
        out["stop_seconds"] = time.perf_counter() - stopped
        out["jvm_rusage_children_maxrss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        out["jvm_rusage_children_cpu_seconds"] = sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])
    if save is not None:  # after the measurements
        frame.to_pickle(save)
    print(json.dumps(out), flush=True)


def _parse_time_v(stderr: str) -> dict[str, float]:
    """Maximum resident set size and wall time from ``/usr/bin/time -v`` output."""
    found: dict[str, float] = {}
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    if match:
        found["max_rss_mb"] = int(match.group(1)) / 1024
    match = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", stderr)
    if match:
        seconds = 0.0
        for part in match.group(1).split(":"):
            seconds = seconds * 60 + float(part)
        found["elapsed_seconds"] = seconds
    return found


def launch(approach: str, folder: Path, *, time_v: bool, save: Path | None) -> dict[str, object]:
    """Run one approach in a fresh subprocess; its measurements, or the failure."""
    command = [sys.executable, __file__, "--worker", approach, "--path", str(folder)]
    if save is not None:
        command += ["--save", str(save)]
    if time_v:
        command = [TIME_V, "-v", *command]
    started = time.perf_counter()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"approach": approach, "failed": f"timeout after {WORKER_TIMEOUT_S}s"}
    elapsed = time.perf_counter() - started
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    time_v_figures = _parse_time_v(result.stderr) if time_v else {}
    if result.returncode != 0 or not lines:
        tail = result.stderr.strip().splitlines()[-8:]
        return {
            "approach": approach,
            "failed": f"exit status {result.returncode}",
            "stderr_tail": tail,
            "process_seconds": elapsed,
            **({"time_v": time_v_figures} if time_v else {}),
        }
    run = json.loads(lines[-1])
    run["process_seconds"] = elapsed  # including interpreter start and imports
    if time_v:
        run["time_v"] = time_v_figures
    return run


# -------------------------------------------------------------------------- bench


def _stats(values: list[float]) -> dict[str, object]:
    return {"best": min(values), "median": statistics.median(values), "runs": values}


def _approaches(n_rows: int, spark: bool) -> list[str]:
    return [a for a in APPROACHES if a != "spark" or (spark and n_rows <= SPARK_MAX_ROWS)]


def bench_size(n_rows: int, repeats: int, spark: bool) -> dict[str, object]:
    """All measurements for one data size: every run of every approach in its own process."""
    print(f"\n== {n_rows:,} rows", flush=True)
    folder = partitioned_dataset(n_rows)
    approaches = _approaches(n_rows, spark)
    use_time_v = Path(TIME_V).exists()
    saved = {a: DATA_DIR / f"_result_{a}_n{n_rows}.pkl" for a in ("package", "pandas", "spark")}
    runs: dict[str, list[dict]] = {a: [] for a in approaches}
    load = {"before": os.getloadavg()[0]}
    for round_ in range(repeats):
        for approach in approaches:
            save = saved.get(approach) if round_ == 0 else None
            run = launch(approach, folder, time_v=use_time_v and round_ == 0, save=save)
            runs[approach].append(run)
            if "failed" in run:
                print(f"  {approach:>12} round {round_ + 1}: FAILED ({run['failed']})", flush=True)
            else:
                extra = (
                    f", session start {run['session_start_seconds']:.1f}s, JVM peak {run['jvm_peak_rss_mb']:.0f} MB"
                    if approach == "spark"
                    else ""
                )
                print(
                    f"  {approach:>12} round {round_ + 1}: {run['seconds']:7.2f}s  CPU {run['cpu_seconds']:7.2f}s  "
                    f"peak RSS {run['peak_rss_mb']:7.0f} MB  load {run['load_1min_at_start']:.2f}{extra}",
                    flush=True,
                )
    load["after"] = os.getloadavg()[0]
    checks = _check(saved, approaches)
    return _summarise(n_rows, folder, runs, load, checks)


def _check(saved: dict[str, Path], approaches: list[str]) -> dict[str, object]:
    """Package vs pandas (check_agreement) and Spark vs DuckDB (assert_frame_equal), from round-one results."""
    checks: dict[str, object] = {}
    frames = {}
    for name, path in saved.items():
        if name in approaches and path.exists():
            with open(path, "rb") as file:
                frames[name] = pickle.load(file)
            path.unlink()
    checks["customers"] = len(frames["package"]) if "package" in frames else None
    if "package" in frames and "pandas" in frames:
        try:
            check_agreement(frames["package"], frames["pandas"])
            checks["package_vs_pandas"] = "agree"
        except AssertionError as exc:
            checks["package_vs_pandas"] = f"DIFFER: {exc}"
    else:
        checks["package_vs_pandas"] = "not checked (a run failed)"
    if "spark" in approaches:
        if "spark" in frames and "package" in frames:
            try:
                pd.testing.assert_frame_equal(frames["spark"], frames["package"])
                checks["spark_vs_duckdb"] = "equal (pandas.testing.assert_frame_equal)"
            except AssertionError as exc:
                checks["spark_vs_duckdb"] = f"DIFFER: {exc}"
        else:
            checks["spark_vs_duckdb"] = "not checked (a run failed)"
    for name, verdict in checks.items():
        if name != "customers":
            print(f"  check {name}: {verdict}", flush=True)
    return checks


def _summarise(
    n_rows: int, folder: Path, runs: dict[str, list[dict]], load: dict[str, float], checks: dict[str, object]
) -> dict[str, object]:
    seconds, cpu, peak, failures, time_v = {}, {}, {}, {}, {}
    spark: dict[str, object] = {}
    for approach, results in runs.items():
        ok = [r for r in results if "failed" not in r]
        if len(ok) < len(results):
            failures[approach] = [r for r in results if "failed" in r]
        for r in results:
            if "time_v" in r:
                time_v[approach] = {**r["time_v"], "vm_hwm_same_run_mb": r.get("peak_rss_mb")}
        if not ok:
            continue
        seconds[approach] = _stats([r["seconds"] for r in ok])
        cpu[approach] = _stats([r["cpu_seconds"] for r in ok])
        peak[approach] = {
            "max": max(r["peak_rss_mb"] for r in ok),
            "runs": [round(r["peak_rss_mb"], 1) for r in ok],
            "baseline": min(r["baseline_rss_mb"] for r in ok),
        }
        if approach == "spark":
            spark = {
                "session_start_seconds": _stats([r["session_start_seconds"] for r in ok]),
                "stop_seconds": _stats([r["stop_seconds"] for r in ok]),
                "jvm_cpu_seconds": _stats([r["jvm_cpu_seconds"] for r in ok]),
                "jvm_peak_rss_mb_vmhwm": [round(r["jvm_peak_rss_mb"], 1) for r in ok],
                "jvm_peak_rss_mb_rusage_children": [round(r["jvm_rusage_children_maxrss_mb"], 1) for r in ok],
                "jvm_is_child_of_worker": all(r["jvm_is_child"] for r in ok),
                "python_plus_jvm_peak_mb": max(r["peak_rss_mb"] + r["jvm_peak_rss_mb"] for r in ok),
            }

    def ratio(top: str, bottom: str) -> dict[str, float] | None:
        if top in seconds and bottom in seconds:
            return {k: seconds[top][k] / seconds[bottom][k] for k in ("best", "median")}
        return None

    result = {
        "rows": n_rows,
        "customers": checks.get("customers"),
        "folder": folder.name,
        "parquet_mb": folder_mb(folder),
        "files": len(list(folder.rglob("*.parquet"))),
        "load_average_1min": {
            **load,
            "per_run": {a: [round(r.get("load_1min_at_start", float("nan")), 2) for r in rs] for a, rs in runs.items()},
        },
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": peak,
        "process_seconds": {
            a: [round(r["process_seconds"], 2) for r in rs if "process_seconds" in r] for a, rs in runs.items()
        },
        "time_v": time_v,
        "ratio_pandas_over_package": ratio("pandas", "package"),
        "ratio_package_over_duckdb_bare": ratio("package", "duckdb_bare"),
        "ratio_package_2gb_over_package": ratio("package_2gb", "package"),
        "ratio_spark_over_package": ratio("spark", "package"),
        "checks": checks,
        "failures": failures,
    }
    if spark:
        result["spark"] = spark
    return result


def slopes(results: list[dict], stat: str = "median") -> dict[str, dict[str, object]]:
    """Least-squares slope of log10(``stat`` seconds) on log10(rows), per approach."""
    fitted = {}
    for approach in APPROACHES:
        points = [(r["rows"], r["seconds"][approach][stat]) for r in results if approach in r["seconds"]]
        if len(points) < 2:
            continue
        x = np.log10([p[0] for p in points])
        y = np.log10([p[1] for p in points])
        slope, intercept = np.polyfit(x, y, 1)
        fitted[approach] = {"slope": float(slope), "intercept": float(intercept), "points": len(points)}
    return fitted


def out_of_core(results: list[dict]) -> dict[str, object] | None:
    """The 4 GB peak-RSS verdict for the DuckDB path at the largest size."""
    largest = max(results, key=lambda r: r["rows"])
    verdict: dict[str, object] = {"rows": largest["rows"], "limit_mb": OUT_OF_CORE_LIMIT_MB}
    for approach in ("package", "package_2gb", "duckdb_bare"):
        if approach not in largest["peak_rss_mb"]:
            continue
        vm_hwm = largest["peak_rss_mb"][approach]["max"]
        time_v = largest["time_v"].get(approach, {}).get("max_rss_mb")
        verdict[approach] = {
            "peak_rss_mb_vmhwm_max_over_runs": vm_hwm,
            "max_rss_mb_usr_bin_time": time_v,
            "under_limit": vm_hwm <= OUT_OF_CORE_LIMIT_MB and (time_v is None or time_v <= OUT_OF_CORE_LIMIT_MB),
        }
    return verdict


def plot(results: list[dict], fitted: dict[str, dict], fitted_best: dict[str, dict], path: Path) -> None:
    """Log-log plots of median time and peak RSS against rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.5))
    colours = dict(zip(APPROACHES, ("C0", "C9", "C3", "C2", "C1"), strict=True))
    markers = dict(zip(APPROACHES, "osD^v", strict=True))
    for approach in APPROACHES:
        points = [(r["rows"], r["seconds"][approach]["median"]) for r in results if approach in r["seconds"]]
        if not points:
            continue
        x, y = np.array(points, dtype=float).T
        label = approach
        if approach in fitted:
            f = fitted[approach]
            label = f"{approach} (slope {f['slope']:.2f}; on best times {fitted_best[approach]['slope']:.2f})"
            xs = np.logspace(np.log10(x.min()), np.log10(x.max()), 20)
            left.plot(xs, 10 ** (f["intercept"] + f["slope"] * np.log10(xs)), "-", color=colours[approach], lw=1)
        left.plot(x, y, markers[approach], color=colours[approach], label=label, ms=7)
        memory = [(r["rows"], r["peak_rss_mb"][approach]["max"]) for r in results if approach in r["peak_rss_mb"]]
        mx, my = np.array(memory, dtype=float).T
        name = "spark (Python process only)" if approach == "spark" else approach
        right.plot(mx, my, markers[approach] + "-", color=colours[approach], label=name, ms=7, lw=1)
        if approach == "spark":
            jvm = [(r["rows"], r["spark"]["python_plus_jvm_peak_mb"]) for r in results if "spark" in r]
            jx, jy = np.array(jvm, dtype=float).T
            right.plot(jx, jy, "v--", color=colours[approach], mfc="none", label="spark (Python + JVM)", ms=7, lw=1)
    right.axhline(OUT_OF_CORE_LIMIT_MB, color="grey", ls=":", lw=1)
    right.text(results[0]["rows"], OUT_OF_CORE_LIMIT_MB * 1.05, "4 GB", color="grey", fontsize=9)
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        ax.set_xlabel("rows (transactions)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=9)
    left.set_ylabel("median wall time, s (end to end, folder → DataFrame)")
    left.set_title("Median time vs rows (fitted log-log slopes in legend)")
    right.set_ylabel("peak RSS, MB (VmHWM, max over runs)")
    right.set_title("Peak memory vs rows")
    fig.suptitle("Customer summaries from hive-partitioned Parquet, 2 cores", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def print_table(results: list[dict], fitted: dict[str, dict]) -> None:
    """Human-readable summary of the results."""
    header = (
        f"{'rows':>11} {'customers':>10} {'approach':>12} {'best s':>8} {'median s':>9} {'CPU s':>7} {'peak MB':>8}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for r in results:
        for name, s in r["seconds"].items():
            print(
                f"{r['rows']:>11,} {r['customers'] or 0:>10,} {name:>12} {s['best']:>8.2f} {s['median']:>9.2f} "
                f"{r['cpu_seconds'][name]['median']:>7.2f} {r['peak_rss_mb'][name]['max']:>8.0f}"
            )
        for name in r["failures"]:
            print(f"{r['rows']:>11,} {'':>10} {name:>12} FAILED runs: {len(r['failures'][name])}")
        sp, sb = r["ratio_pandas_over_package"], r["ratio_package_over_duckdb_bare"]
        if sp and sb:
            print(
                f"{'':>11} pandas/package {sp['best']:.2f}x (median {sp['median']:.2f}x); "
                f"package/bare {sb['best']:.2f}x (median {sb['median']:.2f}x)"
            )
    print("\nslopes (log10 median s vs log10 rows): " + ", ".join(f"{a} {f['slope']:.2f}" for a, f in fitted.items()))


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000, 50_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--plot", type=Path, default=PLOT)
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark reference runs")
    parser.add_argument("--worker", choices=APPROACHES, help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--save", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        worker(args.worker, args.path, args.save)
        return

    started = time.perf_counter()
    info = machine()
    for package in ("pyspark", "ibis-framework", "matplotlib"):
        info[package] = version(package)
    info["java"] = (subprocess.run(["java", "-version"], capture_output=True, text=True).stderr or "").splitlines()[:1]
    git = ["git", "-C", str(HERE.parent)]
    info["commit"] = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    info["src_dirty"] = bool(
        subprocess.run([*git, "status", "--porcelain", "src"], capture_output=True, text=True).stdout
    )
    info["load_average_at_start"] = list(os.getloadavg())
    print(
        f"cores {info['cores']}, Python {info['python']}, pandas {info['pandas']}, duckdb {info['duckdb']}, "
        f"pyspark {info['pyspark']}, ibis {info['ibis-framework']}; load {info['load_average_at_start'][0]:.2f}",
        flush=True,
    )
    results = [bench_size(n, args.repeats, not args.no_spark) for n in sorted(args.sizes)]
    fitted, fitted_best = slopes(results, "median"), slopes(results, "best")
    print_table(results, fitted)
    verdict = out_of_core(results)
    print(f"\nout of core at {verdict['rows']:,} rows: {json.dumps(verdict)}")
    payload = {
        "benchmark": "customer summaries from hive-partitioned Parquet, 1M to 50M rows",
        "as_of": str(AS_OF.date()),
        "trailing_days": TRAILING_DAYS,
        "seed": SEED,
        "repeats": args.repeats,
        "spark": None if args.no_spark else {"master": "local[2]", "driver_memory": "4g", "max_rows": SPARK_MAX_ROWS},
        "machine": info,
        "results": results,
        "slopes_log10_median_seconds_vs_log10_rows": fitted,
        "slopes_log10_best_seconds_vs_log10_rows": fitted_best,
        "out_of_core_4gb": verdict,
        "total_benchmark_seconds": time.perf_counter() - started,
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_average_at_end": list(os.getloadavg()),
    }
    args.output.write_text(json.dumps(payload, indent=2) + "\n")
    if results:
        plot(results, fitted, fitted_best, args.plot)
    print(f"\nwrote {args.output} and {args.plot} ({payload['total_benchmark_seconds']:.0f}s in all)")


if __name__ == "__main__":
    main()
