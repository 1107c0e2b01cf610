"""Shared checks of the studies' parameter declarations (frozen dataclasses).

Each study declares its parameters once, as a dataclass whose field types
are the papermill types of the notebook's parameters cell (``str``, ``int``,
``float``, ``bool``, ``list``, ``dict``). These helpers check the types and
build a declaration from a notebook's namespace.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from analysis.errors import ParameterError

__all__ = ["check_types", "from_namespace"]

T = TypeVar("T")

_TYPES: dict[str, type | tuple[type, ...]] = {
    "str": str,
    "int": int,
    "float": (int, float),
    "bool": bool,
    "list": (list, tuple),
    "dict": dict,
}


def check_types(declaration: Any) -> None:
    """Raise :class:`ParameterError` for the first field whose value has the wrong type.

    Booleans are not accepted where a whole number is expected.
    """
    for f in dataclasses.fields(declaration):
        value = getattr(declaration, f.name)
        wrong_bool = f.type in ("int", "float") and isinstance(value, bool)
        if not isinstance(value, _TYPES[f.type]) or wrong_bool:
            raise ParameterError(f.name, value, f"a value of type {f.type}")


def from_namespace(declaration: type[T], namespace: Mapping[str, Any]) -> T:
    """Build a declaration from a notebook's namespace (its papermill parameters); other names are ignored."""
    return declaration(**{f.name: namespace[f.name] for f in dataclasses.fields(declaration) if f.name in namespace})
