"""docs/filtering.md cannot drift from the code: its field table is what the
resource declarations say, and the bounds it gives are the constants enforced."""

from __future__ import annotations

import textwrap
from pathlib import Path

from sqlalchemy import PrimaryKeyConstraint, Table, UniqueConstraint

from service import query
from service.resources import RESOURCES, Resource

DOC = Path(__file__).resolve().parent.parent / "docs" / "filtering.md"


def indexed_alone(table: Table, name: str) -> bool:
    """Whether some index of `table` leads with the filter field `name`."""
    column, _, key = name.partition(".")
    for index in table.indexes:
        if key and any(f"->> '{key}'" in str(e) for e in index.expressions):
            return True
        columns = list(index.columns)
        if not key and columns and columns[0].name == column:
            return True
    unique = (
        c for c in table.constraints if isinstance(c, (UniqueConstraint, PrimaryKeyConstraint))
    )
    return not key and any(c.columns and next(iter(c.columns)).name == column for c in unique)


def codes(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"`{name}`" for name in names) or "none"


def row(resource: Resource) -> str:
    table = resource.model.__table__
    assert isinstance(table, Table)
    bounded = [f for f in resource.filterable if not indexed_alone(table, f)]
    cells = [
        f"`{resource.message}Service`",
        codes(resource.filterable),
        codes(bounded),
        codes(resource.searchable),
        codes(resource.groupable),
        codes(resource.measures),
    ]
    return "| " + " | ".join(cells) + " |"


def expected_table() -> list[str]:
    return [row(resource) for resource in RESOURCES]


def documented_table() -> list[str]:
    section = DOC.read_text().split("\n## Fields of each resource\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return rows[2:]


def test_the_field_table_is_the_declarations() -> None:
    assert documented_table() == expected_table(), "\n".join(expected_table())


def test_the_documented_bounds_are_the_enforced_ones() -> None:
    text = DOC.read_text()
    for name in (
        "MAX_FILTER_LENGTH",
        "MAX_FILTER_TERMS",
        "MAX_FILTER_DEPTH",
        "MAX_SKIP",
        "MAX_GROUP_BY",
        "MAX_METRICS",
        "MAX_GROUPS",
        "DEFAULT_GROUPS",
    ):
        value = getattr(query, name)
        assert f"{value:,}" in text or str(value) in text, name


def test_the_grammar_in_the_doc_is_the_parser_s() -> None:
    grammar = textwrap.dedent((query.__doc__ or "").split("\n\n")[2]).strip()
    assert f"```text\n{grammar}\n```" in DOC.read_text()
