"""The three studies at scale (issue #13, point 7).

Generates a transactions Parquet file of N customers with about 50 rows each
(two years ending 2025-12-31), runs ``python -m analysis run --data <file>``
on it as a subprocess, and measures

* the wall time of the whole command,
* the peak RSS of the whole process tree (the CLI and the papermill kernels
  it starts), sampled with psutil every 0.5 s as the sum of the RSS of the
  CLI process and all its descendants, plus the peak of the CLI alone and of
  each kernel,
* each study's seconds and status from the run's ``manifest.json``, and the
  exit code (or a timeout, with the tail of stderr).

The results are printed, written to ``benchmarks/results_studies_at_scale.json``
(merged by size, so sizes can be run one at a time) and written into the
section "Studies at scale (issue #13)" of ``benchmarks/README.md``.

Usage::

    PYTHONPATH=src .venv/bin/python benchmarks/studies_at_scale.py --customers 2000 --rows-per-customer 25
    PYTHONPATH=src .venv/bin/python benchmarks/studies_at_scale.py --customers 100000
    PYTHONPATH=src .venv/bin/python benchmarks/studies_at_scale.py --customers 1000000 --timeout 2700

``--no-readme`` leaves README.md alone (for dry runs); ``--output`` chooses
the JSON file.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "_data"
README = HERE / "README.md"
RESULTS = HERE / "results_studies_at_scale.json"
SECTION = "## Studies at scale (issue #13)"
GENERATOR_VERSION = 1
SEED = 20261202
END = dt.date(2025, 12, 31)
START = dt.date(2024, 1, 1)  # two years of history: 2024-01-01 .. 2025-12-31 (731 days)
STUDY_ORDER = ("grading", "churn", "value")


# --------------------------------------------------------------------------- data


def generate(path: Path, customers: int, rows_per_customer: float = 50.0, seed: int = SEED) -> dict[str, Any]:
    """Write ``path``: transactions of ``customers`` customers, about ``rows_per_customer`` rows each.

    The model (all draws vectorised with a seeded ``numpy`` generator):

    * each customer joins on a day uniform over the two years and buys on
      that day (first row);
    * 55% of the customers stop at a time exponential after joining (mean
      240 days); the others stay active to 2025-12-31;
    * while active, a customer buys at Poisson times with a Gamma(0.9)
      distributed rate, scaled so that the expected rows average
      ``rows_per_customer`` over all customers (given the purchases then fall
      uniformly over the active span);
    * amounts are lognormal (median about 40), rounded to cents; no returns.

    The file is written in row groups of about 1M rows (chunks of customers),
    each sorted by date; the whole data never exists as Python objects.
    """
    rng = np.random.default_rng(seed)
    span = (END - START).days  # 730: day 0 = START, day 730 = END
    join = rng.integers(0, span + 1, size=customers)
    stops = rng.random(customers) < 0.55
    life = np.where(stops, rng.exponential(240.0, size=customers), np.inf)
    active = np.minimum(span - join, life)  # days active after joining
    weight = rng.gamma(0.9, 1.0, size=customers)
    # expected rows = 1 + weight * scale * active  ->  average rows_per_customer
    scale = (rows_per_customer - 1.0) * customers / float(np.sum(weight * active))
    extra = rng.poisson(weight * scale * active)
    counts = 1 + extra

    width = max(8, len(str(customers - 1)))
    ids = np.char.add("C", np.char.zfill(np.arange(customers).astype(str), width))
    dictionary = pa.array(ids, type=pa.string())
    schema = pa.schema([("customer_id", pa.string()), ("date", pa.date32()), ("amount", pa.float64())])
    epoch_start = (START - dt.date(1970, 1, 1)).days

    target_rows = 1_000_000
    bounds = [0]
    cumulative = np.cumsum(counts)
    while bounds[-1] < customers:
        done = cumulative[bounds[-1] - 1] if bounds[-1] else 0
        nxt = int(np.searchsorted(cumulative, done + target_rows, side="right")) + 1
        bounds.append(min(max(nxt, bounds[-1] + 1), customers))

    tmp = path.with_suffix(".parquet.tmp")
    total = 0
    with pq.ParquetWriter(tmp, schema, compression="snappy") as writer:
        for lo, hi in itertools.pairwise(bounds):
            n = counts[lo:hi]
            rows = int(n.sum())
            who = np.repeat(np.arange(lo, hi, dtype=np.int64), n)
            # first row of each customer: the join day; the others uniform over the active span
            first = np.zeros(rows, dtype=bool)
            first[np.concatenate(([0], np.cumsum(n)[:-1]))] = True
            offset = rng.random(rows) * active[who]
            day = join[who] + np.where(first, 0.0, np.ceil(offset))
            day = np.minimum(day, span).astype(np.int32)
            amount = np.round(np.exp(rng.normal(np.log(40.0), 0.8, size=rows)), 2)
            amount = np.maximum(amount, 0.01)
            order = np.argsort(day, kind="stable")
            table = pa.table(
                {
                    "customer_id": dictionary.take(pa.array(who[order])),
                    "date": pa.array(day[order] + epoch_start, type=pa.int32()).cast(pa.date32()),
                    "amount": pa.array(amount[order], type=pa.float64()),
                },
                schema=schema,
            )
            writer.write_table(table, row_group_size=rows)
            total += rows
    os.replace(tmp, path)
    facts = {
        "customers": customers,
        "rows": total,
        "rows_per_customer_target": rows_per_customer,
        "rows_per_customer": round(total / customers, 2),
        "customers_who_stop": int(stops.sum()),
        "first_day": str(START),
        "last_day": str(END),
        "row_groups": len(bounds) - 1,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "seed": seed,
        "generator": GENERATOR_VERSION,
    }
    return facts


def data_file(customers: int, rows_per_customer: float) -> tuple[Path, dict[str, Any]]:
    """The generated file for this size (reused when its stamp matches), and its facts."""
    DATA.mkdir(exist_ok=True)
    stem = f"studies_{customers}c_{rows_per_customer:g}r_s{SEED}_g{GENERATOR_VERSION}"
    path, stamp = DATA / f"{stem}.parquet", DATA / f"{stem}.json"
    if path.exists() and stamp.exists():
        return path, json.loads(stamp.read_text())
    started = time.time()
    facts = generate(path, customers, rows_per_customer)
    facts["generation_seconds"] = round(time.time() - started, 1)
    stamp.write_text(json.dumps(facts, indent=2))
    return path, facts


# --------------------------------------------------------------------------- measuring


class TreeSampler(threading.Thread):
    """Sample the RSS of a process and its descendants every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.stop = threading.Event()
        self.peak_tree = 0
        self.peak_tree_at = 0.0
        self.peak_cli = 0
        self.kernels: dict[int, dict[str, Any]] = {}  # pid -> first seen, last seen, peak RSS, cmdline
        self.samples = 0
        self.timeline: list[tuple[float, int, int]] = []  # every 10th sample: seconds, CLI MB, tree MB
        self.started = time.time()

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.interval)

    def sample(self) -> None:
        now = time.time() - self.started
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        total = 0
        for proc in procs:
            try:
                rss = proc.memory_info().rss
            except psutil.Error:
                continue
            total += rss
            if proc.pid == self.root.pid:
                self.peak_cli = max(self.peak_cli, rss)
                continue
            info = self.kernels.get(proc.pid)
            if info is None:
                try:
                    cmd = " ".join(proc.cmdline())
                except psutil.Error:
                    cmd = ""
                info = self.kernels[proc.pid] = {"first_seen": now, "last_seen": now, "peak_rss": 0, "cmd": cmd}
            info["last_seen"] = now
            info["peak_rss"] = max(info["peak_rss"], rss)
        if self.samples % 10 == 0:
            cli = 0
            with contextlib.suppress(psutil.Error):
                cli = self.root.memory_info().rss
            self.timeline.append((round(now, 1), round(cli / 2**20), round(total / 2**20)))
        self.samples += 1
        if total > self.peak_tree:
            self.peak_tree, self.peak_tree_at = total, now


def run_studies(data: Path, customers: int, timeout: float, label: str) -> dict[str, Any]:
    """``python -m analysis run --data <data>`` in a temp folder; time, memory, manifest."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    work = Path(tempfile.mkdtemp(prefix=f"studies_at_scale_{customers}_"))
    reports = work / "reports"
    name = f"scale-{label}"
    command = [sys.executable, "-m", "analysis", "run", "--data", str(data), "--reports", str(reports), "--name", name]
    stderr_path, stdout_path = work / "stderr.txt", work / "stdout.txt"
    load_before = os.getloadavg()
    started = time.time()
    with open(stderr_path, "wb") as err, open(stdout_path, "wb") as out:
        proc = subprocess.Popen(command, cwd=work, env=env, stdout=out, stderr=err, start_new_session=True)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        timed_out = False
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGTERM)  # the process group this script started
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            code = None
        wall = time.time() - started
        sampler.stop.set()
        sampler.join()
    load_after = os.getloadavg()
    result: dict[str, Any] = {
        "command": " ".join(command[1:]),
        "work_dir": str(work),
        "exit_code": code,
        "timed_out": timed_out,
        "timeout_seconds": timeout,
        "wall_seconds": round(wall, 1),
        "peak_tree_rss_mb": round(sampler.peak_tree / 2**20),
        "peak_tree_at_seconds": round(sampler.peak_tree_at, 1),
        "peak_cli_rss_mb": round(sampler.peak_cli / 2**20),
        "rss_samples": sampler.samples,
        "rss_timeline_mb": sampler.timeline,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "stderr_tail": stderr_path.read_text(errors="replace")[-3000:],
    }
    kernels = [k for k in sampler.kernels.values() if "ipykernel" in k["cmd"]]
    kernels.sort(key=lambda k: k["first_seen"])
    result["kernels"] = [
        {
            "first_seen_s": round(k["first_seen"], 1),
            "last_seen_s": round(k["last_seen"], 1),
            "peak_rss_mb": round(k["peak_rss"] / 2**20),
        }
        for k in kernels
    ]
    result["seconds_before_first_kernel"] = round(kernels[0]["first_seen"], 1) if kernels else None
    manifest_path = reports / name / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        result["manifest_status"] = manifest.get("status")
        result["manifest_duration_seconds"] = manifest.get("duration_seconds")
        result["data"] = manifest.get("data")
        studies = {}
        ran = [s for s in STUDY_ORDER if manifest.get("studies", {}).get(s, {}).get("status") != "skipped"]
        for study, info in manifest.get("studies", {}).items():
            studies[study] = {
                "status": info.get("status"),
                "seconds": info.get("seconds"),
                "error": info.get("error"),
                "cell": info.get("cell"),
            }
        # kernels start in study order (the run executes the studies one after another)
        for study, kernel in zip(ran, result["kernels"], strict=False):
            if study in studies:
                studies[study]["kernel_peak_rss_mb"] = kernel["peak_rss_mb"]
        result["studies"] = studies
        result["slowest_cells"] = slowest_cells(reports / name)
    else:
        result["manifest_status"] = None
        result["studies"] = {}
    return result


def slowest_cells(run: Path, top: int = 5) -> dict[str, list[dict[str, Any]]]:
    """The slowest cells of each executed notebook in the run folder (papermill's per-cell durations)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for notebook in sorted(run.rglob("*.ipynb")):
        try:
            cells = json.loads(notebook.read_text())["cells"]
        except (OSError, ValueError, KeyError):
            continue
        timed = []
        for index, cell in enumerate(cells):
            duration = cell.get("metadata", {}).get("papermill", {}).get("duration")
            if cell.get("cell_type") == "code" and duration is not None:
                source = "".join(cell.get("source", ""))
                first = next((line for line in source.splitlines() if line.strip() and not line.startswith("#")), "")
                timed.append({"cell": index, "seconds": round(float(duration), 2), "source": first[:100]})
        timed.sort(key=lambda c: -c["seconds"])
        found[notebook.name] = timed[:top]
    return found


# --------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    def out(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.rstrip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    try:
        import duckdb
        import pandas as pd

        versions = {"pandas": pd.__version__, "numpy": np.__version__, "duckdb": duckdb.__version__}
    except Exception as exc:  # the measurement must not be lost to a broken import
        versions = {"pandas": "?", "numpy": np.__version__, "duckdb": "?", "import_error": repr(exc)}
    return {
        **versions,
        "python_executable": sys.executable,
        "nproc": out("nproc"),
        "free_g": out("free", "-g"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "pyarrow": pa.__version__,
        "psutil": psutil.__version__,
        "commit": out("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"),
    }


def table_rows(results: dict[str, Any]) -> list[str]:
    lines = [
        "| customers | rows | exit | wall s | before kernels s | grading s | churn s | value s"
        " | peak RSS tree MB | CLI peak MB | kernel peaks MB (grading/churn/value) |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for key in sorted(results, key=int):
        r = results[key]
        run, facts = r["run"], r["data_facts"]
        exit_text = "timeout" if run["timed_out"] else str(run["exit_code"])
        if run.get("manifest_status"):
            exit_text += f" ({run['manifest_status']})"
        cells = []
        for study in STUDY_ORDER:
            info = run["studies"].get(study)
            if not info:
                cells.append("-")
            elif info["status"] == "ok":
                cells.append(f"{info['seconds']:,.1f}")
            else:
                cells.append(f"{info['status']}" + (f" ({info['seconds']:,.1f})" if info.get("seconds") else ""))
        kernel = "/".join(str(run["studies"].get(s, {}).get("kernel_peak_rss_mb", "-")) for s in STUDY_ORDER)
        before = run.get("seconds_before_first_kernel")
        lines.append(
            f"| {facts['customers']:,} | {facts['rows']:,} | {exit_text} | {run['wall_seconds']:,.1f}"
            f" | {before if before is not None else '-'} | {' | '.join(cells)}"
            f" | {run['peak_tree_rss_mb']:,} | {run['peak_cli_rss_mb']:,} | {kernel} |"
        )
    return lines


def growth(results: dict[str, Any]) -> list[str]:
    """Ratios from 100k to 1M customers (or the two largest completed sizes).

    Besides the plain ratio, the "net" ratio takes off the seconds of the
    smallest (baseline) run, which are mostly fixed costs (imports, kernel
    start, plots), and the exponent log(ratio) / log(rows ratio) says how the
    time grows: 1 = linear, above 1 worse than linear.
    """
    done = [k for k in sorted(results, key=int) if not results[k]["run"]["timed_out"]]
    big = [k for k in done if int(k) >= 100_000]
    pair = big[-2:] if len(big) >= 2 else done[-2:]
    if len(pair) < 2:
        return []
    base = results[done[0]]["run"] if done[0] not in pair else None
    small, large = results[pair[0]]["run"], results[pair[1]]["run"]
    fs, fl = results[pair[0]]["data_facts"], results[pair[1]]["data_facts"]
    size = fl["rows"] / fs["rows"]
    baseline = f"net of the {results[done[0]]['data_facts']['customers']:,}-customer run" if base else "net"
    lines = [
        f"| {fs['customers']:,} -> {fl['customers']:,} customers (rows x{size:.2f})"
        f" | time ratio | exponent | time ratio {baseline} | exponent (net) | memory ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]

    def ratio(a: float | None, b: float | None) -> str:
        return f"{b / a:.1f}x" if a and b else "-"

    def exponent(a: float | None, b: float | None) -> str:
        return f"{np.log(b / a) / np.log(size):.2f}" if a and b and a > 0 and b > 0 else "-"

    def row(label: str, a: float | None, b: float | None, a0: float | None, ma: Any, mb: Any, mem: str) -> str:
        na = a - a0 if a is not None and a0 is not None else None
        nb = b - a0 if b is not None and a0 is not None else None
        return (
            f"| {label} | {ratio(a, b)} | {exponent(a, b)} | {ratio(na, nb) if base else '-'}"
            f" | {exponent(na, nb) if base else '-'} | {ratio(ma, mb)}{mem} |"
        )

    def sec(run: dict[str, Any] | None, study: str) -> float | None:
        info = (run or {}).get("studies", {}).get(study, {})
        return info.get("seconds") if info.get("status") == "ok" else None

    lines.append(
        row(
            "whole run",
            small["wall_seconds"],
            large["wall_seconds"],
            base and base["wall_seconds"],
            small["peak_tree_rss_mb"],
            large["peak_tree_rss_mb"],
            " (tree peak)",
        )
    )
    lines.append(
        row(
            "CLI before the first kernel (load, check, summarise)",
            small.get("seconds_before_first_kernel"),
            large.get("seconds_before_first_kernel"),
            base and base.get("seconds_before_first_kernel"),
            small["peak_cli_rss_mb"],
            large["peak_cli_rss_mb"],
            " (CLI peak)",
        )
    )
    for study in STUDY_ORDER:
        lines.append(
            row(
                study,
                sec(small, study),
                sec(large, study),
                sec(base, study),
                small["studies"].get(study, {}).get("kernel_peak_rss_mb"),
                large["studies"].get(study, {}).get("kernel_peak_rss_mb"),
                " (kernel peak)",
            )
        )
    return lines


def print_summary(results: dict[str, Any]) -> None:
    print("\n".join(table_rows(results)))
    g = growth(results)
    if g:
        print()
        print("\n".join(g))


def update_readme(results: dict[str, Any], notes: str) -> None:
    """Replace (or append) the section of README.md with the tables and ``notes``."""
    text = README.read_text()
    info = next(iter(results.values()))["machine"]
    body = [
        SECTION,
        "",
        "`studies_at_scale.py` generates a transactions Parquet file and runs",
        "`python -m analysis run --data <file> --reports <tmp> --name scale-N` on it",
        "(a subprocess in a temporary folder, default parameters: every date chosen",
        "from the data). It measures the wall time of the command, the peak RSS of",
        "the whole process tree (CLI plus the three papermill kernels: psutil,",
        "every 0.5 s, RSS summed over the CLI process and its descendants), the",
        "CLI's own peak and each kernel's peak, and takes each study's seconds and",
        "status from the run's `manifest.json`. Results are in",
        "`results_studies_at_scale.json`.",
        "",
        "**Data.** Seeded `numpy` (seed 20261202), written with pyarrow in row groups",
        "of about 1M rows: `customer_id` text (`C00000123`), `date` a Parquet date,",
        "`amount` float rounded to cents (lognormal, median about 40, no returns).",
        "Two years, 2024-01-01..2025-12-31. Each customer joins on a uniform",
        "random day and buys that day. 55% stop after an exponential time",
        "(mean 240 days), the rest stay to the end. While active, a customer buys",
        "at Poisson times with a Gamma(0.9)-distributed rate, scaled to about 50",
        "rows per customer.",
        "",
        "```sh",
        "# dry run:",
        "PYTHONPATH=src .venv/bin/python benchmarks/studies_at_scale.py --customers 2000 \\",
        "    --rows-per-customer 25 --no-readme",
        "PYTHONPATH=src .venv/bin/python benchmarks/studies_at_scale.py --customers 100000",
        "PYTHONPATH=src .venv/bin/python benchmarks/studies_at_scale.py --customers 1000000 --timeout 2700",
        "```",
        "",
        f"Measured 2026-12-02 at commit {info['commit']} on {info['nproc']} cores"
        f" ({info['platform']}; Python {info['python']}, pandas {info['pandas']},"
        f" DuckDB {info['duckdb']}, pyarrow {info['pyarrow']}). `free -g`:",
        "",
        "```",
        info["free_g"],
        "```",
        "",
        *table_rows(results),
        "",
        "Exit: the command's exit status (the manifest's status in brackets); a",
        "study's cell shows its seconds from the manifest, or its status if it did",
        'not succeed. "before kernels" is the time until the first kernel process',
        "appeared (the CLI loading, validating and summarising the data).",
        "",
    ]
    g = growth(results)
    if g:
        body += ["**Growth**", "", *g, ""]
    body += [notes.strip(), ""]
    section = "\n".join(body)
    pattern = re.compile(re.escape(SECTION) + r".*?(?=\n## |\Z)", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section.rstrip("\n") + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    README.write_text(text)


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000])
    parser.add_argument("--rows-per-customer", type=float, default=50.0)
    parser.add_argument("--timeout", type=float, default=2700.0, help="seconds (default 45 min)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--notes", type=Path, default=None, help="Markdown file: notes under the tables")
    parser.add_argument("--only-readme", action="store_true", help="rewrite the README section from the JSON")
    args = parser.parse_args()

    results: dict[str, Any] = json.loads(args.output.read_text()) if args.output.exists() else {}
    if not args.only_readme:
        for customers in args.customers:
            t0 = time.time()
            path, facts = data_file(customers, args.rows_per_customer)
            print(
                f"data: {path.name}: {facts['rows']:,} rows, {facts['customers']:,} customers"
                f" ({time.time() - t0:.1f} s)",
                flush=True,
            )
            run = run_studies(path, customers, args.timeout, label=str(customers))
            # kept in the work folder even if a later step fails
            (Path(run["work_dir"]) / "measurement.json").write_text(json.dumps(run, indent=2))
            results[str(customers)] = {
                "measured": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "data_facts": facts,
                "run": run,
                "machine": machine(),
            }
            print(json.dumps({k: v for k, v in run.items() if k != "stderr_tail"}, indent=2), flush=True)
            if run["exit_code"] != 0:
                print("stderr tail:\n" + run["stderr_tail"], flush=True)
            args.output.write_text(json.dumps(results, indent=2) + "\n")
    print_summary(results)
    if not args.no_readme and results:
        update_readme(results, args.notes.read_text() if args.notes else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
