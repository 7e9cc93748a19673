"""SQLAlchemy Core statements as asyncpg SQL text and arguments, compiled once per
statement shape.

A List's statement is built per call (its filter, order and page differ), but its
shape repeats: the SQL text is compiled the first time a shape is seen and reused,
with only the call's values bound. The statement then runs on the asyncpg
connection itself: SQLAlchemy's execution context and result rows cost more than
the query and the conversion of its rows together."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects.postgresql import asyncpg
from sqlalchemy.sql import ClauseElement

# The dialect every engine of the service uses: its SQL text and bind processing
# are what SQLAlchemy would send through the same connection.
_DIALECT: Any = asyncpg.dialect()  # type: ignore[no-untyped-call]  # untyped constructor
_CACHE_SIZE = 500


@dataclass(frozen=True)
class _Shape:
    sql: str
    compiled: Any
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    shareable: bool


_shapes: OrderedDict[Any, _Shape] = OrderedDict()


def _compile(statement: ClauseElement, key: Any) -> _Shape:
    # With its cache key, the compilation can take another statement's values.
    compiled: Any = statement.compile(dialect=_DIALECT, cache_key=key)
    shareable = True
    if compiled.literal_execute_params or compiled.post_compile_params:
        # Values written into the text (expanding IN lists): no shape to share.
        compiled = statement.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
        shareable = False
    names = tuple(compiled.positiontup or ())
    processors = compiled._bind_processors  # what execution applies per value
    return _Shape(
        compiled.string, compiled, names, tuple(processors.get(n) for n in names), shareable
    )


def _remember(key: Any, shape: _Shape) -> None:
    _shapes[key] = shape
    if len(_shapes) > _CACHE_SIZE:
        _shapes.popitem(last=False)


def _arguments(shape: _Shape, params: Mapping[str, Any]) -> list[Any]:
    return [
        params[name] if process is None else process(params[name])
        for name, process in zip(shape.names, shape.processors, strict=True)
    ]


def named_sql_and_arguments(
    key: Hashable, build: Callable[[], ClauseElement], values: Mapping[str, Any]
) -> tuple[str, list[Any]]:
    """The SQL text of the statement `build` makes, whose every value is a named
    bind parameter, and `values` in its order. It is built and compiled the first
    time `key` is seen: a call skips SQLAlchemy's construction and cache key, which
    cost a List without a filter as much as converting ten of its rows."""
    shape = _shapes.get(("named", key))
    if shape is None:
        shape = _compile(build(), None)
        _remember(("named", key), shape)
    else:
        _shapes.move_to_end(("named", key))
    return shape.sql, _arguments(shape, values)


def sql_and_arguments(statement: ClauseElement) -> tuple[str, list[Any]]:
    """`statement` as asyncpg takes it: its SQL text (with $n placeholders) and its
    values in their order, each as SQLAlchemy would have sent it."""
    key: Any = statement._generate_cache_key()  # SQLAlchemy's own cache key
    shape = None if key is None else _shapes.get(key.key)
    if shape is None:
        shape = _compile(statement, key)
        if key is not None and shape.shareable:
            _remember(key.key, shape)
        params = shape.compiled.construct_params(escape_names=False)
    else:
        _shapes.move_to_end(key.key)
        # This call's values, in the places the cached compilation gave the first
        # statement of this shape.
        params = shape.compiled.construct_params(
            extracted_parameters=key.bindparams, escape_names=False
        )
    return shape.sql, _arguments(shape, params)
