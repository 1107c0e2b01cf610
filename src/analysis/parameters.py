"""Parameters are data: strict YAML reading, plain-value checks, safe names.

Each study declares its parameters once, as a dataclass whose field types
are the papermill types of the notebook's parameters cell (``str``, ``int``,
``float``, ``bool``, ``list``, ``dict``). These helpers check the types and
build a declaration from a notebook's namespace.

A parameter reaches a notebook as Python source (papermill writes an
assignment per parameter into the injected cell), so anything that is not
plain data could become code. Hence three rules, enforced here and nowhere
else:

- YAML given by a user (``--params`` files, ``-p NAME=VALUE``) is read by
  :func:`load_yaml_data`, which builds only strings, numbers, booleans,
  null, lists and mappings. Every other tag (``!!binary``, ``!!set``,
  ``!!python/...``, ``!!timestamp``, custom ones) is refused; dates stay the
  text they were written as.
- :func:`check_plain` walks a value and refuses anything but ``str``,
  ``int``, finite ``float``, ``bool``, ``None``, lists of those and dicts
  with string keys. It runs in every study declaration and again right
  before papermill, together with :func:`check_injected_source`, which
  parses the code papermill will inject and accepts only assignments of
  literals equal to the values.
- :func:`safe_name` accepts one path component (letters, digits, ``-``,
  ``_`` and ``.`` not leading) for every user-given name that becomes a
  file or folder name.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any, TypeVar

import yaml

from analysis.errors import ParameterError

__all__ = [
    "RefusedValue",
    "check_injected_source",
    "check_plain",
    "check_types",
    "from_namespace",
    "load_yaml_data",
    "safe_name",
]

T = TypeVar("T")

_TYPES: dict[str, type | tuple[type, ...]] = {
    "str": str,
    "int": int,
    "float": (int, float),
    "bool": bool,
    "list": (list, tuple),
    "dict": dict,
}

#: How many values (all levels together) one parameter may hold: a YAML alias bomb stops here.
MAX_VALUES = 10_000
#: How deep lists and dicts may nest in one parameter.
MAX_DEPTH = 20

_SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")


@dataclasses.dataclass(frozen=True)
class RefusedValue:
    """What :func:`load_yaml_data` builds for a YAML tag it does not accept (refused by :func:`check_plain`)."""

    tag: str

    def __repr__(self) -> str:
        return f"<YAML tag {self.tag}>"


class _DataLoader(yaml.SafeLoader):
    """YAML's safe loader, reduced to plain data: no binary, sets, ordered pairs, timestamps or custom tags."""


# Dates stay text ("1998-06-30"): drop the implicit timestamp resolver (a copy, so SafeLoader is unchanged).
_DataLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _refuse(loader: yaml.Loader, node: yaml.Node) -> RefusedValue:
    return RefusedValue(str(node.tag).replace("tag:yaml.org,2002:", "!!"))


for _tag in ("binary", "set", "omap", "pairs", "timestamp"):
    _DataLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse)
_DataLoader.add_constructor(None, _refuse)  # any other tag: !!python/..., !custom


def load_yaml_data(text: str, parameter: str) -> Any:
    """Read YAML text as plain data; refuse every tag that is not plain data.

    Parameters
    ----------
    text : str
        The YAML text (a ``--params`` file's content or a ``-p`` value).
    parameter : str
        What the text is, for messages (``"--params params.yaml"``, ``"column_map"``).

    Raises
    ------
    ParameterError
        On invalid YAML, or (through :func:`check_plain`) a tag that is not
        plain data, naming the parameter and the tag.

    Examples
    --------
    >>> load_yaml_data("{as_of: 1998-06-30, cuts: [0.75, 0.95]}", "-p")
    {'as_of': '1998-06-30', 'cuts': [0.75, 0.95]}
    >>> load_yaml_data("!!binary aGVsbG8=", "column_map")
    Traceback (most recent call last):
    ...
    analysis.errors.ParameterError: parameter 'column_map' = <YAML tag !!binary>: expected plain data ...
    """
    try:
        value = yaml.load(text, Loader=_DataLoader)
    except yaml.YAMLError as exc:
        raise ParameterError(parameter, text, f"valid YAML ({' '.join(str(exc).split())})") from exc
    check_plain(parameter, value)
    return value


def check_plain(parameter: str, value: Any) -> Any:
    """Return ``value`` if it is plain data, else raise :class:`ParameterError` naming where it is not.

    Plain data: ``str``, ``int``, finite ``float``, ``bool``, ``None``, and
    lists (or tuples) and dicts of those, with string keys, at most
    :data:`MAX_DEPTH` levels deep and :data:`MAX_VALUES` values in all.

    Examples
    --------
    >>> check_plain("column_map", {"customer_id": "Kunde"})
    {'customer_id': 'Kunde'}
    >>> check_plain("column_map", {1: "Kunde"})
    Traceback (most recent call last):
    ...
    analysis.errors.ParameterError: parameter 'column_map' = {1: 'Kunde'}: expected plain data ... key 1 is not text
    """
    seen = 0

    def walk(item: Any, where: str, depth: int) -> None:
        nonlocal seen
        seen += 1
        if seen > MAX_VALUES or depth > MAX_DEPTH:
            raise ParameterError(parameter, _short(value), f"at most {MAX_VALUES:,} values {MAX_DEPTH} levels deep")
        problem = None
        if item is None or isinstance(item, (str, bool, int)):
            return
        if isinstance(item, float):
            if not math.isfinite(item):
                problem = f"{where or 'the value'} is not a finite number"
        elif isinstance(item, (list, tuple)):
            for i, element in enumerate(item):
                walk(element, f"{where}[{i}]", depth + 1)
            return
        elif isinstance(item, dict):
            for key, element in item.items():
                if not isinstance(key, str):
                    problem = f"key {key!r}{' in ' + where if where else ''} is not text"
                    break
                walk(element, f"{where}.{key}" if where else key, depth + 1)
        else:
            problem = f"{where or 'the value'} is {_kind(item)}"
        if problem:
            raise ParameterError(
                parameter,
                _short(value),
                "plain data (text, numbers, true/false, null, lists and mappings with text keys); " + problem,
            )

    walk(value, "", 0)
    return value


def _kind(item: Any) -> str:
    if isinstance(item, RefusedValue):
        return f"YAML tag {item.tag}"
    return f"of type {type(item).__name__}"


def _short(value: Any) -> Any:
    text = repr(value)
    return value if len(text) <= 200 else text[:200] + "..."


def check_injected_source(source: str, parameters: Mapping[str, Any]) -> None:
    """Check the code papermill injects: one assignment of a literal per parameter, equal to its value.

    ``source`` is papermill's own translation of ``parameters``; parsing it
    with :mod:`ast` and evaluating each right-hand side as a literal (never
    as code) proves that the injected cell only assigns data.

    Raises
    ------
    ParameterError
        Naming the first parameter whose injected code is not its literal value.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError("parameters", _short(dict(parameters)), f"values papermill can write ({exc})") from exc
    assigned: dict[str, Any] = {}
    for statement in tree.body:
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            raise ParameterError("parameters", _short(dict(parameters)), "plain assignments only in the injected cell")
        name = statement.targets[0].id
        try:
            assigned[name] = ast.literal_eval(statement.value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
            raise ParameterError(name, _short(parameters.get(name)), "a value written as a plain literal") from exc
    for name, value in parameters.items():
        if name not in assigned or assigned[name] != value:
            raise ParameterError(name, _short(value), "a value that reaches the notebook unchanged")


def safe_name(parameter: str, value: Any) -> str:
    """Return ``value`` if it is one safe path component, else raise :class:`ParameterError`.

    A safe name has 1 to 100 characters: letters, digits, ``-``, ``_`` and
    ``.``, not starting with ``.`` (so never ``.``, ``..`` or a hidden name)
    and without any separator, so it cannot leave the folder it is put in.

    Examples
    --------
    >>> safe_name("--name", "main-2024-06")
    'main-2024-06'
    >>> safe_name("--name", "-2/../../escaped")
    Traceback (most recent call last):
    ...
    analysis.errors.ParameterError: parameter '--name' = '-2/../../escaped': expected one name of letters, ...
    """
    if not isinstance(value, str) or not _SAFE_NAME.fullmatch(value):
        raise ParameterError(
            parameter,
            value,
            "one name of letters, digits, '-', '_' and '.' (not leading), at most 100 characters, without '/'",
        )
    return value


def check_types(declaration: Any) -> None:
    """Raise :class:`ParameterError` for the first field that is not plain data of its declared type.

    Booleans are not accepted where a whole number is expected.
    """
    for f in dataclasses.fields(declaration):
        value = getattr(declaration, f.name)
        check_plain(f.name, value)
        wrong_bool = f.type in ("int", "float") and isinstance(value, bool)
        if not isinstance(value, _TYPES[f.type]) or wrong_bool:
            raise ParameterError(f.name, value, f"a value of type {f.type}")


def from_namespace(declaration: type[T], namespace: Mapping[str, Any]) -> T:
    """Build a declaration from a notebook's namespace (its papermill parameters); other names are ignored."""
    return declaration(**{f.name: namespace[f.name] for f in dataclasses.fields(declaration) if f.name in namespace})
