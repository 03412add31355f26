"""The shared base of every backend's JSON shapes: frozen, unknown keys ignored, nulls read as empty."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict


class Wire(BaseModel):
    """Base of a backend's wire models; a provider's base adds its quirks (pydantic merges the configs)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def no_items_if_none(value: object) -> object:
    return () if value is None else value


def empty_if_none(value: object) -> object:
    return {} if value is None else value


def blank_if_none(value: object) -> object:
    return "" if value is None else value


# Backends serialise absent lists as null; the bot treats them as empty.
Items = Annotated[tuple[str, ...], BeforeValidator(no_items_if_none)]
