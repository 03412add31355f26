"""Row mapping: a row into a frozen dataclass by field names, a dataclass back into column values, and the
stored form of a backend's action (a job's buttons, a kept report)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.engine import RowMapping

from bot.domain import Action, ActionKind

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")

Converter = Callable[[Any], Any]


def _check(names: set[str], convert: dict[str, Converter], owner: object) -> None:
    unknown = convert.keys() - names
    if unknown:  # a misspelt converter would otherwise be ignored silently
        raise TypeError(f"{owner} has no field {', '.join(sorted(unknown))}")


def from_row(cls: type[T], row: RowMapping, **convert: Converter) -> T:
    """Build `cls` from the row's columns named like its fields; `convert[field]` turns a stored value into
    the field's (columns with no field are ignored)."""
    names = [f.name for f in fields(cls)]
    _check(set(names), convert, cls.__name__)
    return cls(**{name: convert[name](row[name]) if name in convert else row[name] for name in names})


def to_values(obj: DataclassInstance, **convert: Converter) -> dict[str, Any]:
    """Column values of a dataclass by field name, shallow (nested dataclasses are left as they are);
    `convert[field]` turns the field's value into what its column stores."""
    names = [f.name for f in fields(obj)]
    _check(set(names), convert, type(obj).__name__)
    values = {name: getattr(obj, name) for name in names}
    return {name: convert[name](value) if name in convert else value for name, value in values.items()}


def action_to_wire(action: Action) -> list[Any]:
    return [action.kind.value, action.ref, action.index, action.label, action.emoji]


def action_from_wire(raw: list[Any]) -> Action:
    """An action as stored; a kind this version does not know is UNKNOWN (stored by a newer one)."""
    kind, ref, index, label, emoji = raw
    try:
        action_kind = ActionKind(kind)
    except ValueError:
        action_kind = ActionKind.UNKNOWN
    return Action(kind=action_kind, ref=ref, index=int(index), label=label, emoji=emoji)
