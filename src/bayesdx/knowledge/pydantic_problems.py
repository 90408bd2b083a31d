"""Pydantic validation errors as :class:`~bayesdx.errors.Problem` lines.

Internal to :mod:`bayesdx.knowledge.load`: each error of a knowledge file
becomes ``file: key.path: must be X; got Y; try Z``, an unknown key with the
keys allowed there.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Problem

__all__ = ["pydantic_problems"]


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str] | None:
    """Field names allowed where an unknown key was found (best effort)."""
    import typing

    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(part)
            if info is None:
                return None
            current = info.annotation
        else:
            args = [a for a in typing.get_args(current) if a is not type(None)]
            # dict[str, X] / list[X] / X | None: descend into the value type
            nxt = None
            for a in args:
                if isinstance(a, type) and issubclass(a, BaseModel):
                    nxt = a
                    break
                sub = [s for s in typing.get_args(a) if isinstance(s, type) and issubclass(s, BaseModel)]
                if sub:
                    nxt = sub[0]
                    break
            if nxt is None and args:
                nxt = args[-1]
            if isinstance(nxt, type) and issubclass(nxt, BaseModel) and part in nxt.model_fields:
                current = nxt.model_fields[part].annotation
            else:
                current = nxt
    while not (isinstance(current, type) and issubclass(current, BaseModel)):
        args = [a for a in typing.get_args(current) if a is not type(None)]
        if not args:
            return None
        current = args[-1]
    return sorted(current.model_fields)


def pydantic_problems(exc: ValidationError, rel: str, schema: type[BaseModel]) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = ".".join(str(p) for p in loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(schema, loc)
            hint = f"one of {', '.join(allowed)}" if allowed else "check the spelling"
            out.append(Problem(rel, path, "must not be here (unknown key)", repr(loc[-1]), hint))
        elif kind == "missing":
            out.append(Problem(rel, path, "is required but missing", None,
                               "add it (see docs/knowledge-format.md)"))
        else:
            got = err.get("input")
            got_s = repr(got) if not isinstance(got, (dict, list)) else (
                f"an empty {type(got).__name__}" if not got else type(got).__name__)
            ctx = err.get("ctx") or {}
            expected = {
                "too_short": f"must have at least {ctx.get('min_length')} item(s)",
                "too_long": f"must have at most {ctx.get('max_length')} item(s)",
                "float_parsing": "must be a number",
                "float_type": "must be a number",
                "string_type": "must be text",
                "list_type": "must be a list",
                "dict_type": "must be a mapping",
                "tuple_type": "must be a list of two numbers [low, high]",
                "literal_error": f"must be one of {ctx.get('expected')}",
            }.get(kind, f"must be valid ({err['msg'].lower()})")
            out.append(Problem(rel, path, expected, got_s))
    return out
