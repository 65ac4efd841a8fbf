"""pydantic's validation errors as the one ``SpecError``: the file, the failing field, what was expected.

Shared by every part of ``report.yaml`` that has its own model (the spec, ``notify:``), so each names
its fields the same way.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from nbreports.errors import SpecError


def model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel]:
    """The model whose field ``loc`` ends in (``access.change`` → ``AccessGrants``), for "expected one of"."""
    model: Any = root
    for part in loc[:-1]:
        fields = model.model_fields if isinstance(model, type) and issubclass(model, BaseModel) else {}
        if str(part) not in fields:
            continue  # a key of a mapping (a parameter's name) or an index: the same model below it
        model = fields[str(part)].annotation
        for _ in range(3):  # dict[str, X], list[X], X | None → X
            args = [a for a in get_args(model) if a is not type(None)]
            if not args:
                break
            model = args[-1]
    return model if isinstance(model, type) and issubclass(model, BaseModel) else root


def spec_error(exc: ValidationError, file: str, root: type[BaseModel], prefix: tuple[str, ...] = ()) -> SpecError:
    """The first error of ``exc`` (raised validating ``root`` at ``prefix`` of the file) as a ``SpecError``."""
    first = exc.errors()[0]
    field = ".".join([*prefix, *(str(p) for p in first["loc"])]) or "(spec)"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = f"unknown field; expected one of {', '.join(model_at(root, first['loc']).model_fields)}"
    elif first["type"] == "missing":
        message = "required field is missing"
    return SpecError(file, field, message)
