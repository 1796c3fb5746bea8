"""Where a problem in a scenario is and how to say it in one line.

Origins of keys (which file of an ``extends`` chain), dotted keys, pydantic errors in words.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import types
from collections.abc import Iterable, Iterator, Mapping
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


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def dotted(loc: Iterable[Any]) -> str:
    """Return ``loc`` as a dotted key: ``states.KAZ.weights`` or ``events[2].year``.

    A key that is not a bare TOML key is quoted as TOML writes it (``states."KA.Z"``), with
    control characters escaped, so a dot, a bracket or a newline in a key cannot blur its place.
    """
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            text = str(part)
            if not _BARE_KEY.fullmatch(text):
                text = json.dumps(text, ensure_ascii=False)
            parts.append(("." if parts else "") + text)
    return "".join(parts)


# The names pydantic puts into an error's location for the branches of a union
# (``float``, ``constrained-float``, ``dict[int,constrained-float]``, ``function-after[...]``).
_BRANCH = re.compile(r"(float|constrained-float|int|str|bool|[a-z][a-z-]*\[.*\])")


def user_loc(loc: Iterable[Any], data: Any) -> tuple[Any, ...]:
    """Return a pydantic error location without the union branch names pydantic adds to it.

    A part is dropped only if it names a branch and is not a key of ``data`` at that place,
    so a key the user wrote (even ``"dict[x]"`` or ``"a[1]"``) is always kept.
    """
    kept: list[Any] = []
    node = data
    for part in loc:
        present = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if not present and isinstance(part, str) and _BRANCH.fullmatch(part):
            continue
        kept.append(part)
        node = node[part] if present else None
    return tuple(kept)


def text_values(raw: Any, value: Any, loc: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Yield (location, message) wherever a file wrote text (or true/false) that validation took as a number.

    pydantic's lax mode reads ``"0.3"`` as 0.3 and ``true`` as 1.0; a number written in quotes
    is a mistake in a TOML file (and a sign of a mix-up), so it is refused. ``raw`` is the
    data as parsed, ``value`` what the model made of it.
    """
    if isinstance(value, BaseModel):
        if isinstance(raw, dict):
            for name in type(value).model_fields:
                if name in raw:
                    yield from text_values(raw[name], getattr(value, name), (*loc, name))
    elif isinstance(value, dict):
        if isinstance(raw, dict) and len(raw) == len(value):  # same order: keys may be converted
            for (key, sub), validated in zip(raw.items(), value.values(), strict=True):
                yield from text_values(sub, validated, (*loc, key))
    elif isinstance(value, list | tuple):
        if isinstance(raw, list | tuple) and len(raw) == len(value):
            for index, (sub, validated) in enumerate(zip(raw, value, strict=True)):
                yield from text_values(sub, validated, (*loc, index))
    elif isinstance(value, bool):
        if isinstance(raw, str):
            yield loc, f"expected true or false, got {raw!r} (text in quotes); write it without quotes"
    elif isinstance(value, int | float) and isinstance(raw, str | bool):
        quoted = f"{raw!r} (text in quotes); write it without quotes"
        yield loc, f"expected a number, got {quoted if isinstance(raw, str) else str(raw).lower()}"


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


def first_error(exc: ValidationError, data: Any = None) -> tuple[str, str | None]:
    """Return the one error of a pydantic failure worth showing, as (message, dotted key).

    Deeper and non-"missing" errors come first: they name the precise key at fault. ``data``
    (what was validated) tells the user's keys from the branch names pydantic adds.
    """
    errors = sorted(exc.errors(include_url=False), key=lambda e: (e["type"] == "missing", -len(e["loc"])))
    first = errors[0]
    message = "unknown key" if first["type"] == "extra_forbidden" else describe_error(first)
    return message, dotted(user_loc(first["loc"], data)) or None


def _shown(value: Any) -> str:
    """A value found in a file, as a message shows it: a table in words, a date as written, else repr."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, dt.date | dt.time):  # TOML dates and times: 2017-01-01, 07:30:00
        return f"the {'time' if isinstance(value, dt.time) else 'date'} {value.isoformat()}"
    return repr(value)


def describe_error(error: Mapping[str, Any]) -> str:
    """Say one pydantic error in plain words: what was found and what is expected."""
    kind = error["type"]
    ctx = error.get("ctx", {}) or {}
    got = error.get("input")
    shown = _shown(got)
    if kind == "missing":
        return "missing required key"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(tuple(error["loc"][:-1]))
        hint = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
        return f"unknown key{hint}"
    if kind in {
        "float_parsing",
        "float_type",
        "int_parsing",
        "int_type",
        "int_from_float",
        "int_parsing_size",
    }:
        want = "a whole number" if kind.startswith("int") else "a number"
        # int_parsing_size: a number far beyond any whole number pydantic reads (1e300)
        return f"expected {want}, got {shown}" + (", which is far too large" if kind.endswith("size") else "")
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
        validated = model.model_validate(data)
    except ValidationError as exc:
        message, key = first_error(exc, data)
        raise error(str(path), message, key=key) from None
    for loc, message in text_values(data, validated):
        raise error(str(path), message, key=dotted(loc))
    return validated, raw
