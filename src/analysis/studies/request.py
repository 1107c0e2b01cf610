"""What the user asked for: parameters from a file and ``-p`` overrides merged, checked, dated."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.engines.select import check_engine
from analysis.errors import ParameterError
from analysis.parameters import load_yaml_data
from analysis.studies.periods import period_parameters
from analysis.studies.registry import STUDIES, parameter_table, resolve_parameters

__all__ = ["gather"]


def gather(
    studies: Sequence[str],
    *,
    params_file: str | None = None,
    overrides: Sequence[str] = (),
    engine: str | None = None,
    drop_later_rows: bool = False,
    as_of: str | None = None,
    resolve: bool = True,
    common: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every chosen study's parameters from a parameters file and overrides, checked before anything runs.

    Parameters
    ----------
    studies : sequence of str
        The chosen studies (empty: all, in the registry's order).
    params_file : path, optional
        YAML: ``{study: {parameter: value}}``, or flat for one chosen study.
    overrides : sequence of str
        ``NAME=VALUE`` (every chosen study that has it) or ``STUDY.NAME=VALUE``; values are YAML.
    engine : str, optional
        Every study's ``engine`` (a contradicting given engine is refused).
    drop_later_rows : bool
        Every study's ``later_rows`` is ``"drop"`` unless given.
    as_of : date, optional
        Every study's dates as in a report at this date (:func:`analysis.studies.periods.period_parameters`).
    resolve : bool
        Check and complete the parameters; ``False`` returns them as given (a
        periodic report adds each period's dates first).
    common : mapping, optional
        Parameters every chosen study gets (the command line's ``--data`` and
        format flags); a contradicting value from the file or ``-p`` is refused.

    Raises
    ------
    ParameterError
        Naming the first bad study, parameter or value; YAML other than plain data is refused.
    """
    for name in studies:
        if name not in STUDIES:
            raise ParameterError("study", name, f"one of {sorted(STUDIES)}")
    chosen = list(dict.fromkeys(studies)) or list(STUDIES)
    values: dict[str, dict[str, Any]] = {study: {} for study in chosen}
    if params_file:
        try:
            text = Path(params_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ParameterError("--params", params_file, f"a readable YAML file ({exc})") from exc
        loaded = load_yaml_data(text, f"--params {params_file}")
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ParameterError("--params", params_file, "a YAML mapping")
        if set(loaded) <= set(STUDIES) and all(isinstance(v, dict) for v in loaded.values()):
            for study, mapping in loaded.items():
                if study in values:
                    values[study].update(mapping)
        elif len(chosen) == 1:
            values[chosen[0]].update(loaded)
        else:
            raise ParameterError("--params", params_file, "a mapping {study: {parameter: value}} for several studies")
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep:
            raise ParameterError("-p", item, "NAME=VALUE or STUDY.NAME=VALUE")
        study, dot, name = key.partition(".")
        targets = [study] if dot else [s for s in chosen if key in parameter_table(s)["parameter"].tolist()]
        name = name if dot else key
        if not targets or (dot and study not in values):
            raise ParameterError(key, text, f"a parameter of a chosen study ({', '.join(chosen)})")
        value = load_yaml_data(text, name)
        for target in targets:
            values[target][name] = value
    if drop_later_rows:
        for given in values.values():
            given.setdefault("later_rows", "drop")
    for name, value in (common or {}).items():
        for study, given in values.items():
            if name in given and given[name] != value:
                raise ParameterError(f"{study}.{name}", given[name], f"{value!r} as the command line says, or nothing")
            given[name] = value
    if engine is not None:
        check_engine(engine, recorded=True)
        for study, given in values.items():
            if given.get("engine", engine) != engine:
                raise ParameterError(f"{study}.engine", given["engine"], f"{engine!r} as --engine says, or no --engine")
            given["engine"] = engine
    if not resolve:
        return values
    if as_of:
        # Every study's dates as at --as-of, as in a report (the churn study is scored
        # where outcomes are known by then); a given date contradicting it is refused.
        end = pd.Timestamp(as_of).normalize()
        return {study: period_parameters(study, end, given) for study, given in values.items()}
    return {study: resolve_parameters(study, given) for study, given in values.items()}
