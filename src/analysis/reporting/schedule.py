"""The studies of a run executed side by side, one kernel each, with progress shown at a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from analysis.errors import ParameterError

__all__ = ["default_jobs", "run_studies"]


def default_jobs(studies: int) -> int:
    """How many studies run at once by default: one per core, at most one per study (at least 1)."""
    return max(1, min(studies, os.cpu_count() or 1))


def run_studies(
    plans: Mapping[str, Mapping[str, Any]],
    folder: Path,
    run_study: Callable[..., dict[str, Any]],
    *,
    jobs: int | None = None,
    progress: bool | None = None,
) -> dict[str, dict[str, Any]]:
    """Execute each study's notebook (``run_study(study, folder, values, progress_bar=...)``), ``jobs`` at a time.

    Each study runs in its own kernel (a separate process), so studies run
    side by side on separate cores; a thread here only waits for its
    kernel. The results are those of running them one after the other:
    each study reads only its inputs and writes only its own files.

    Parameters
    ----------
    plans : mapping
        ``{study: parameters}`` of the studies to run, in the order of the run.
    folder : path
        The run's staging folder.
    run_study : callable
        :func:`analysis.reporting.execute.run_study`.
    jobs : int, optional
        Studies at once (default :func:`default_jobs`); ``1`` runs them one
        after the other.
    progress : bool, optional
        Show a bar for the run (studies done of all, elapsed time) and one per
        running study (cells done of all); default: when standard error is a
        terminal. Nothing else is printed: the caller reports the results.

    Returns
    -------
    dict
        ``{study: outcome}`` in the order of ``plans``.

    Raises
    ------
    ParameterError
        ``jobs`` below 1.
    OSError
        From a study whose folder cannot be written: the studies already
        running finish first, then the error is raised (nothing is published).
    """
    if jobs is None:
        jobs = default_jobs(len(plans))
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ParameterError("jobs", jobs, "a whole number of studies at once, 1 or more")
    show = sys.stderr.isatty() if progress is None else progress
    run_bar = _bar(
        show, total=len(plans), desc="run", position=0, bar_format="{desc}: {n}/{total} studies done [{elapsed}]"
    )

    def one(position: int, study: str, values: Mapping[str, Any]) -> dict[str, Any]:
        # papermill draws the study's bar (cells done / total) on its own line under the run's
        bar = {"desc": study, "position": position, "leave": False, "file": sys.stderr} if show else False
        try:
            return run_study(study, folder, values, progress_bar=bar)
        finally:
            if run_bar is not None:
                run_bar.update(1)

    try:
        with ThreadPoolExecutor(max_workers=min(jobs, max(1, len(plans)))) as pool:
            futures = {
                study: pool.submit(one, position, study, values)
                for position, (study, values) in enumerate(plans.items(), start=1)
            }
            done, _ = wait(futures.values(), return_when=FIRST_EXCEPTION)
            failed = [future for future in done if future.exception() is not None]
            if failed:
                for future in futures.values():
                    future.cancel()  # those not started yet; a running kernel finishes
                raise failed[0].exception()
            return {study: future.result() for study, future in futures.items()}
    finally:
        if run_bar is not None:
            run_bar.close()


def _bar(show: bool, **options: Any) -> Any:
    """A tqdm bar on standard error, or ``None`` when no progress is shown."""
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(leave=False, file=sys.stderr, **options)
