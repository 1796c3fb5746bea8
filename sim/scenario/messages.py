"""Where a problem in a scenario is and how to say it in one line.

Origins of keys (which file of an ``extends`` chain), dotted keys, pydantic errors in words.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sim.errors import InputError
from sim.files import read_toml_file
from sim.scenario.schema import RESERVED_KEYS, Scenario

M = TypeVar("M", bound=BaseModel)


def mark(value: Any, origins: dict[tuple[str, ...], str], where: str, loc: tuple[str, ...]) -> None:
    """Record that ``value`` and every key below it at ``loc`` came from the file ``where``."""
    origins[loc] = where
    if isinstance(value, dict):
        for key, sub in value.items():
            mark(sub, origins, where, (*loc, str(key)))


def origin(origins: dict[tuple[str, ...], str], loc: Iterable[Any], default: str) -> str:
    """Return the file the key at ``loc`` came from (the nearest marked parent), or ``default``."""
    loc = tuple(str(part) for part in loc)
    for cut in range(len(loc), 0, -1):
        if loc[:cut] in origins:
            return origins[loc[:cut]]
    return default


def dotted(loc: Iterable[Any]) -> str:
    """Return ``loc`` as a dotted key: ``states.KAZ.weights`` or ``events[2].year``."""
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Walk the schema along ``loc`` to list the keys allowed at that place."""
    model: Any = Scenario
    for part in loc:
        if isinstance(model, type) and issubclass(model, BaseModel):
            field = model.model_fields.get(str(part))
            if field is None:
                return []
            model = field.annotation
        else:
            # dict[str, X] / list[X]: step into the value type
            args = getattr(model, "__args__", ())
            model = args[-1] if args else None
        if isinstance(model, types.UnionType) and type(None) in model.__args__:
            # an optional table, such as `data`: step into the table
            model = next(a for a in model.__args__ if a is not type(None))
        while getattr(model, "__origin__", None) is not None and not (
            isinstance(model, type) and issubclass(model, BaseModel)
        ):
            origin = model.__origin__
            if origin in (dict, list):
                break
            args = [a for a in getattr(model, "__args__", ()) if a is not type(None)]
            model = args[0] if args else None
    if isinstance(model, type) and issubclass(model, BaseModel):
        return sorted(name for name in model.model_fields if name not in RESERVED_KEYS)
    return []


def first_error(exc: ValidationError) -> tuple[str, str | None]:
    """Return the one error of a pydantic failure worth showing, as (message, dotted key).

    Deeper and non-"missing" errors come first: they name the precise key at fault.
    """
    errors = sorted(exc.errors(include_url=False), key=lambda e: (e["type"] == "missing", -len(e["loc"])))
    first = errors[0]
    message = "unknown key" if first["type"] == "extra_forbidden" else describe_error(first)
    return message, dotted(first["loc"]) or None


def describe_error(error: Mapping[str, Any]) -> str:
    """Say one pydantic error in plain words: what was found and what is expected."""
    kind = error["type"]
    ctx = error.get("ctx", {}) or {}
    got = error.get("input")
    shown = repr(got) if not isinstance(got, dict) else "a table"
    if kind == "missing":
        return "missing required key"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(tuple(error["loc"][:-1]))
        hint = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
        return f"unknown key{hint}"
    if kind in {"float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"}:
        want = "a whole number" if kind.startswith("int") else "a number"
        return f"expected {want}, got {shown}"
    if kind == "finite_number":
        return f"expected a finite number, got {shown}"
    if kind == "too_long":
        count = ctx.get("actual_length") or (len(got) if isinstance(got, dict | list) else "more")
        return f"expected at most {ctx.get('max_length')} entries, got {count}"
    if kind == "greater_than_equal":
        return f"expected a number >= {ctx.get('ge')}, got {shown}"
    if kind == "greater_than":
        return f"expected a number > {ctx.get('gt')}, got {shown}"
    if kind == "less_than_equal":
        return f"expected a number <= {ctx.get('le')}, got {shown}"
    if kind == "less_than":
        return f"expected a number < {ctx.get('lt')}, got {shown}"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}, got {shown}"
    if kind in {"dict_type", "model_type"}:
        return f"expected a table, got {shown}"
    if kind == "list_type":
        return f"expected a list, got {shown}"
    if kind in {"string_type"}:
        return f"expected a string, got {shown}"
    if kind == "bool_type" or kind == "bool_parsing":
        return f"expected true or false, got {shown}"
    return f"{error['msg']} (got {shown})"


def read_validated(path: Path, model: type[M], kind: str, error: type[InputError]) -> tuple[M, bytes]:
    """Read a TOML file (an experiment, a calibration) into ``model``; return it and the raw bytes.

    Raises ``error`` in one line naming the file and the first wrong key.
    """
    data, raw = read_toml_file(path, kind=kind, error=error)
    try:
        return model.model_validate(data), raw
    except ValidationError as exc:
        message, key = first_error(exc)
        raise error(str(path), message, key=key) from None
