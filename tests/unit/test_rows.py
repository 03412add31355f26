"""The row-mapping helper: rows into frozen dataclasses by field name, dataclasses back into column values."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Text, create_engine, insert, select

from bot.storage.rows import from_row, to_values


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    tags: tuple[str, ...]
    body: str | None


notes = Table(
    "notes",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("tags", Text, nullable=False),
    Column("body", Text),
    Column("created_at", Integer, nullable=False),  # a column with no field
)


def test_a_dataclass_goes_into_a_row_and_comes_back_equal() -> None:
    note = Note(id=1, tags=("a", "ü"), body=None)
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        notes.create(conn)
        values = to_values(note, tags=lambda tags: json.dumps(list(tags)))
        conn.execute(insert(notes).values(**values, created_at=5))
        row = conn.execute(select(notes)).mappings().one()
    assert values == {"id": 1, "tags": '["a", "\\u00fc"]', "body": None}
    assert from_row(Note, row, tags=lambda raw: tuple(json.loads(raw))) == note


def test_nested_dataclasses_are_left_for_a_converter() -> None:
    @dataclass(frozen=True)
    class Outer:
        inner: Note

    inner = Note(id=2, tags=(), body="x")
    assert to_values(Outer(inner)) == {"inner": inner}


def test_a_misspelt_converter_is_refused() -> None:
    with pytest.raises(TypeError, match="Note has no field tag"):
        to_values(Note(id=1, tags=(), body=None), tag=str)
    with pytest.raises(TypeError, match="Note has no field tag"):
        from_row(Note, {"id": 1, "tags": "[]", "body": None}, tag=str)  # type: ignore[arg-type]
