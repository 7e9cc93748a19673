"""ChangeService.WatchChanges: a resumable stream of change events without gaps
(docs/watch.md has the guarantee, the settings and the errors).

One reader per process (`WatchHub`) reads windows of the change history below the
horizon (repositories/watching.py) and fans each window out to the streams
positioned where it is. A stream that starts behind (from an older token, or
before the reader's first read) pages through the history on its own until it
reaches the reader's position, then joins it; the join happens between two reads
of the reader, so nothing is sent twice or skipped."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import re
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from ruleiq.data.v1 import change_pb2

from repositories.database import UNREADABLE, Database
from repositories.errors import FailedPreconditionError, InvalidArgumentError
from repositories.filtering import All, Compare, Either, Filter, Match, Not, Present
from repositories.watching import Window, horizon, read_window

from .conversion import Converter
from .encoding import PageEncoder, varint
from .errors import rich_status
from .handlers import parse_request
from .metrics import Metrics
from .query import FilterLanguage
from .settings import ServiceSettings

log = logging.getLogger("ruleiq_data.watch")

WATCH_FILTERABLE = ("resource_type", "resource_id", "owner_user_id", "operation")
# A stream whose filter pins one of these (in order of preference) is found by it.
INDEXED = ("owner_user_id", "resource_id", "resource_type")
CHANNEL = "ruleiq_watch"
# Events per read, the reader's and a catching-up stream's.
PAGE = 500
# A catching-up stream reads the history in windows of at most this many
# transaction ids: each page sorts its window's rest, which stays small. (A
# resource's watch_xid never falls, so its events keep their order across windows.)
CATCH_UP_XIDS = 10_000
TOKEN_VERSION = 1
_TOKEN = struct.Struct(">Bqqqq")
_TOKEN_FIELD = b"\x12"  # WatchChangesResponse.resume_token: field 2, length-delimited
BACKOFF_MAX = 5.0
# Under a stream of writes, a wake-up waits this long after the previous read or
# NOTIFY, so a burst of commits costs one read and one NOTIFY, not one each.
COALESCE = 0.05

Predicate = Callable[[Any], bool]


@dataclass(frozen=True)
class Cursor:
    """A position in the stream: every event with watch_xid < `lower` is behind it;
    with `upper` set (a window split over several responses), so are the events of
    [lower, upper) up to id `last`."""

    lower: int
    upper: int = 0
    last: int = 0

    def token(self) -> str:
        made = int(time.time() * 1000)
        raw = _TOKEN.pack(TOKEN_VERSION, self.lower, self.upper, self.last, made)
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def after(self, window: Window, full: bool) -> Cursor:
        """Where a read from here that returned `window` leaves the stream: inside
        the window when the page was full, else past it."""
        if full:
            return Cursor(self.lower, window.upper, int(window.rows[-1]["id"]))
        return Cursor(max(self.lower, window.upper))


def _bad_token(description: str) -> InvalidArgumentError:
    return InvalidArgumentError.single("resume_token", description)


def decode_token(text: str) -> tuple[Cursor, float]:
    """The cursor a resume token holds and when it was made (epoch seconds)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise _bad_token("is not a token this service made") from None
    if len(raw) != _TOKEN.size:
        raise _bad_token("is not a token this service made")
    version, lower, upper, last, made = _TOKEN.unpack(raw)
    if version != TOKEN_VERSION:
        raise _bad_token(f"has version {version}; this service reads version {TOKEN_VERSION}")
    if lower < 0 or upper < 0 or last < 0 or (upper and upper < lower) or (last and not upper):
        raise _bad_token("is not a token this service made")
    return Cursor(lower, upper, last), made / 1000


def _like_regex(pattern: str) -> re.Pattern[str]:
    """The LIKE pattern the filter language made of `a*b` (repositories/filtering.py
    `like_pattern`), as a regular expression."""
    out = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.DOTALL)


def compile_filter(node: Filter | None) -> Predicate:
    """A Python predicate over an event row that means what `node` means in SQL
    (NULL compares as neither equal nor unequal, as there)."""
    if node is None:
        return lambda row: True
    if isinstance(node, Compare):
        name, value = node.field.column, node.value
        if node.op not in ("=", "!="):
            raise InvalidArgumentError.single("filter", f"{name} takes only = and != here")
        if value is None:
            if node.op == "=":
                return lambda row: row[name] is None
            return lambda row: row[name] is not None
        if node.op == "=":
            return lambda row: row[name] == value
        return lambda row: row[name] is not None and row[name] != value
    if isinstance(node, Match):
        name, regex, negated = node.field.column, _like_regex(node.pattern), node.negated

        def match(row: Any) -> bool:
            found = row[name]
            if found is None:
                return False
            return (regex.fullmatch(str(found)) is None) is negated

        return match
    if isinstance(node, Present):
        name = node.field.column
        return lambda row: row[name] is not None
    if isinstance(node, All):
        parts = [compile_filter(p) for p in node.parts]
        return lambda row: all(p(row) for p in parts)
    if isinstance(node, Either):
        parts = [compile_filter(p) for p in node.parts]
        return lambda row: any(p(row) for p in parts)
    if isinstance(node, Not):
        part = compile_filter(node.part)
        return lambda row: not part(row)
    raise InvalidArgumentError.single("filter", "search() and `:` do not apply to change events")


def pinned(node: Filter | None) -> tuple[str, Any] | None:
    """(field, value) when `node` is a conjunction with `field = value` in it, for
    the most selective field of INDEXED: only events with that value can match."""
    parts: Iterable[Filter] = ()
    if isinstance(node, All):
        parts = node.parts
    elif node is not None:
        parts = (node,)
    found = {
        p.field.column: p.value
        for p in parts
        if isinstance(p, Compare) and p.op == "=" and p.value is not None
    }
    for name in INDEXED:
        if name in found:
            return name, found[name]
    return None


class CallerGone(Exception):
    """The call ended under a write (cancelled by its caller): nothing to send."""


class StreamEnded(Exception):
    """The stream must end now with this status (raised out of a blocked write)."""


@dataclass
class Ending:
    code: grpc.StatusCode
    reason: str
    message: str
    final: bool  # send a last response with the token first


@dataclass
class Response:
    data: bytes
    events: int
    changed_at: list[float]
    token: str


WRITE_GRACE_SECONDS = 0.5
"""How long an ending stream's write may still wait for its caller."""


class Stream:
    """One open WatchChanges call as the hub sees it."""

    def __init__(self, predicate: Predicate, pin: tuple[str, Any] | None) -> None:
        self.predicate = predicate
        self.pin = pin
        self.queue: deque[Response] = deque()
        self.queued_events = 0
        self.wake = asyncio.Event()
        self.ending: Ending | None = None
        self.task = asyncio.current_task()
        self.writing = False
        self.joined = False
        self.dropped = False

    def end(self, ending: Ending) -> None:
        if self.ending is not None:
            return
        self.ending = ending
        # Memory stays flat: what the caller did not read is dropped, not kept (and
        # the last token is then that of the last response sent, not the reader's).
        self.dropped = bool(self.queue)
        self.queue.clear()
        self.queued_events = 0
        if self.writing:
            # A write under way ends by itself (its status can follow only then);
            # one that still waits for the caller after a moment is cut there.
            asyncio.get_running_loop().call_later(WRITE_GRACE_SECONDS, self._cut_write)
        self.wake.set()

    def _cut_write(self) -> None:
        if self.writing and self.task is not None:
            self.task.cancel()


class Events:
    """One read's events, each converted and serialized once, whatever the number
    of streams it goes to."""

    def __init__(self, converter: Converter, rows: list[Any], limit: int) -> None:
        self.rows = rows
        self._converter = converter
        self._limit = limit
        self._bytes: dict[int, bytes] = {}

    def item(self, index: int) -> bytes:
        data = self._bytes.get(index)
        if data is None:
            data = event_bytes(self._converter, self.rows[index], self._limit)
            self._bytes[index] = data
        return data


def event_bytes(converter: Converter, row: Mapping[str, Any], limit: int) -> bytes:
    """A change event row as its message, serialized: whole, or without before and
    after (values_omitted) when they hold JSON written in SQL that the API cannot
    carry (UNREADABLE), or make the event alone more than `limit` bytes. Without the
    one event, no page or stream could go past it."""
    if row["before"] is not UNREADABLE and row["after"] is not UNREADABLE:
        data = bytes(converter.to_message(row).SerializeToString())
        if len(data) + 16 <= limit:  # with its field's tag and length
            return data
    message = converter.to_message({**row, "before": None, "after": None})
    message.values_omitted = True
    return bytes(message.SerializeToString())


class WatchHub:
    """The process's one reader and its streams."""

    def __init__(
        self,
        database: Database,
        settings: ServiceSettings,
        metrics: Metrics | None,
        converter: Converter,
    ) -> None:
        self.database = database
        self.settings = settings
        self.metrics = metrics
        self.converter = converter
        self.encoder = PageEncoder(change_pb2.WatchChangesResponse, "changes")
        self.max_bytes = settings.grpc_max_response_bytes - 1024
        self.listen = not database.settings.db_pgbouncer
        self.streams: set[Stream] = set()
        self.index: dict[str, dict[Any, set[Stream]]] = {name: {} for name in INDEXED}
        self.unindexed: set[Stream] = set()
        # The reader's position; None until its first read after it (re)started.
        self.cursor: Cursor | None = None
        self.reading = False
        self.closing = False
        self._wake = asyncio.Event()
        self._read_done = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._notify_connection: Any = None
        self._notify_pending = False
        self._notify_again = False
        self._background: set[asyncio.Task[None]] = set()
        self.failing_since: float | None = None
        self._empty = asyncio.Event()
        database.after_write = self.written

    # -- streams ---------------------------------------------------------------

    @property
    def following(self) -> bool:
        """Whether a reader follows the history for open streams: its cursor is
        then where the history stands now (or a poll interval behind)."""
        return self._reader is not None and not self._reader.done()

    def open(self, stream: Stream) -> None:
        self.streams.add(stream)
        self._empty.clear()
        if self.metrics is not None:
            self.metrics.watch_streams.set(len(self.streams))
        if self._reader is None or self._reader.done():
            self.cursor = None
            self._reader = asyncio.create_task(self._read_loop())
        if self.listen and (self._listener is None or self._listener.done()):
            self._listener = asyncio.create_task(self._listen_loop())

    def join(self, stream: Stream) -> None:
        """From now on `stream` gets the reader's windows (call only while the reader
        is between reads and at the stream's position)."""
        stream.joined = True
        if stream.pin is not None:
            name, value = stream.pin
            self.index[name].setdefault(value, set()).add(stream)
        else:
            self.unindexed.add(stream)

    def close(self, stream: Stream) -> None:
        self.streams.discard(stream)
        if stream.pin is not None:
            name, value = stream.pin
            members = self.index[name].get(value)
            if members is not None:
                members.discard(stream)
                if not members:
                    del self.index[name][value]
        self.unindexed.discard(stream)
        if self.metrics is not None:
            self.metrics.watch_streams.set(len(self.streams))
        if not self.streams:
            self._empty.set()
            self._wake.set()  # the reader sees there is no one left and stops

    def end_all(self, ending: Ending) -> None:
        for stream in list(self.streams):
            stream.end(ending)

    async def shutdown(self, within: float) -> None:
        """Every stream gets its last token and ends with UNAVAILABLE; then the
        reader and the listener stop."""
        self.closing = True
        self.end_all(
            Ending(
                grpc.StatusCode.UNAVAILABLE,
                "SHUTTING_DOWN",
                "the server is shutting down; resume from the last resume_token elsewhere",
                final=True,
            )
        )
        # The reader reads no more: a stream still catching up waits on it no longer.
        self._read_done.set()
        if self.streams:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._empty.wait(), within)
        for task in (self._reader, self._listener, *self._background):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self._close_notify_connection()

    # -- wake-ups ----------------------------------------------------------------

    def written(self) -> None:
        """After this process committed a write: read now, and tell the others."""
        self._wake.set()
        if self.listen and not self.closing:
            if self._notify_pending:
                self._notify_again = True
            else:
                self._notify_pending = True
                task = asyncio.get_running_loop().create_task(self._notify())
                self._background.add(task)
                task.add_done_callback(self._background.discard)

    async def _notify(self) -> None:
        try:
            while True:
                self._notify_again = False
                connection = await self._notify_driver()
                await connection.execute(f"NOTIFY {CHANNEL}")
                await asyncio.sleep(COALESCE)
                if not self._notify_again:
                    return
        except Exception as error:  # a hint only: the others poll anyway
            log.debug("NOTIFY failed: %s", error)
            await self._close_notify_connection()
        finally:
            self._notify_pending = False

    async def _notify_driver(self) -> Any:
        if self._notify_connection is None or self._notify_connection[1].is_closed():
            await self._close_notify_connection()
            self._notify_connection = await self._connect()
        return self._notify_connection[1]

    async def _connect(self) -> tuple[Any, Any, Any]:
        engine = self.database.dedicated_engine()
        try:
            connection = await engine.connect()
            raw = await connection.get_raw_connection()
        except BaseException:
            await engine.dispose()
            raise
        return engine, raw.driver_connection, connection

    async def _close_notify_connection(self) -> None:
        held, self._notify_connection = self._notify_connection, None
        if held is not None:
            await _close(held)

    async def _listen_loop(self) -> None:
        """LISTEN on a connection of its own while streams are open; reconnect with
        backoff when it drops (the reader polls meanwhile)."""
        delay = self.settings.watch_poll_interval
        while self.streams and not self.closing:
            held = None
            try:
                held = await self._connect()
                driver = held[1]
                lost = asyncio.Event()
                driver.add_termination_listener(lambda _connection, ended=lost: ended.set())
                await driver.add_listener(CHANNEL, lambda *_args: self._wake.set())
                delay = self.settings.watch_poll_interval
                while self.streams and not lost.is_set() and not driver.is_closed():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), 1.0)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.debug("LISTEN connection failed: %s", error)
            finally:
                if held is not None:
                    await _close(held)
            if self.streams:
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)

    # -- the reader --------------------------------------------------------------

    async def _read_loop(self) -> None:
        delay = self.settings.watch_poll_interval
        while self.streams and not self.closing:
            self._wake.clear()
            try:
                await self._read()
                self.failing_since = None
                delay = self.settings.watch_poll_interval
            except Exception as error:
                self._failed(error)
                delay = min(max(delay, self.settings.watch_poll_interval) * 2, BACKOFF_MAX)
            finally:
                self.reading = False
                self._read_done.set()
                self._read_done = asyncio.Event()
            if self.failing_since is None:
                delay = self.settings.watch_poll_interval
            if not self.streams:
                break
            await asyncio.sleep(min(COALESCE, delay))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, delay - COALESCE))

    def _failed(self, error: Exception) -> None:
        if self.metrics is not None:
            self.metrics.watch_tick_errors.inc()
        now = time.monotonic()
        if self.failing_since is None:
            self.failing_since = now
            log.warning("change stream read failed (retrying): %s", error)
        if now - self.failing_since > self.settings.watch_database_outage:
            self.end_all(
                Ending(
                    grpc.StatusCode.UNAVAILABLE,
                    "DATABASE_UNAVAILABLE",
                    "the change history cannot be read; resume from the last resume_token",
                    final=True,
                )
            )

    async def _read(self) -> None:
        if self.metrics is not None:
            self.metrics.watch_ticks.inc()
        self.reading = True
        if self.cursor is None:
            async with self.database.unit_of_work(
                self.settings.max_statement_timeout_seconds, single_statement=True
            ) as uow:
                top, _ = await horizon(uow.transaction)
            self.cursor = Cursor(top)
            return
        while True:
            cursor = self.cursor
            window = await self.page(cursor, None)
            full = len(window.rows) >= PAGE
            after = cursor.after(window, full)
            if window.rows:
                self._fan_out(
                    Events(self.converter, window.rows, self.max_bytes), cursor, window, after
                )
            self.cursor = after
            if not full:
                return

    async def page(self, cursor: Cursor, upper: int | None) -> Window:
        """One read on the pool from `cursor`: the rest of its window, or the events
        up to `upper` (None: the horizon)."""
        async with self.database.unit_of_work(
            self.settings.max_statement_timeout_seconds, single_statement=True
        ) as uow:
            if cursor.upper:
                return await read_window(
                    uow.transaction, cursor.lower, cursor.upper, cursor.last, PAGE
                )
            return await read_window(uow.transaction, cursor.lower, upper, 0, PAGE)

    def _fan_out(self, events: Events, cursor: Cursor, window: Window, after: Cursor) -> None:
        matched: dict[Stream, list[int]] = {}
        for index, row in enumerate(events.rows):
            candidates: list[Stream] = list(self.unindexed)
            for name in INDEXED:
                members = self.index[name].get(row[name]) if row[name] is not None else None
                if members:
                    candidates.extend(members)
            for stream in candidates:
                if stream.predicate(row):
                    matched.setdefault(stream, []).append(index)
        for stream, indexes in matched.items():
            if stream.ending is not None:
                continue
            responses = self.responses(events, indexes, cursor, window, after)
            count = sum(r.events for r in responses)
            if stream.queued_events + count > self.settings.watch_buffer:
                stream.end(
                    Ending(
                        grpc.StatusCode.ABORTED,
                        "WATCH_TOO_SLOW",
                        "the stream was read too slowly and fell behind; "
                        "resume from the last resume_token received",
                        final=False,
                    )
                )
                continue
            stream.queue.extend(responses)
            stream.queued_events += count
            stream.wake.set()

    def responses(
        self, events: Events, indexes: list[int], cursor: Cursor, window: Window, after: Cursor
    ) -> list[Response]:
        """The responses that carry `indexes` of `events` (read from `cursor`,
        leaving the stream at `after`), none larger than a response may be."""
        out: list[Response] = []
        parts: list[bytes] = []
        times: list[float] = []
        size = 0
        for position, index in enumerate(indexes):
            item = events.item(index)
            prefix = self.encoder.prefix(item)
            if parts and size + len(prefix) + len(item) > self.max_bytes:
                last = int(events.rows[indexes[position - 1]]["id"])
                split = Cursor(cursor.lower, window.upper, last)
                out.append(self._response(parts, times, split.token()))
                parts, times, size = [], [], 0
            parts += (prefix, item)
            times.append(events.rows[index]["changed_at"].timestamp())
            size += len(prefix) + len(item)
        out.append(self._response(parts, times, after.token()))
        return out

    def _response(self, parts: list[bytes], times: list[float], token: str) -> Response:
        data = token.encode()
        body = b"".join((*parts, _TOKEN_FIELD, varint(len(data)), data))
        return Response(body, len(times), times, token)

    async def read_done(self, within: float) -> None:
        """Wait for the reader's next read to end (at most `within` seconds)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._read_done.wait(), within)


async def _close(held: tuple[Any, Any, Any]) -> None:
    engine, _driver, connection = held
    with contextlib.suppress(Exception):
        await asyncio.wait_for(connection.close(), 5)
    with contextlib.suppress(Exception):
        await engine.dispose()


class WatchServicer:
    """The WatchChanges method: a request's filter and token checked, then the
    stream served from the hub."""

    def __init__(self, hub: WatchHub, table: Any) -> None:
        self.hub = hub
        self.settings = hub.settings
        self.filters = FilterLanguage(table, WATCH_FILTERABLE, ())
        # Streams past the limit check that are not open yet: they count against it.
        self._opening = 0

    async def WatchChanges(self, data: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        hub = self.hub
        request = parse_request(
            change_pb2.WatchChangesRequest.FromString, data, "WatchChangesRequest"
        )
        where = self.filters.parse(request.filter)
        predicate = compile_filter(where)
        start = None
        if request.resume_token:
            start, made = decode_token(request.resume_token)
            if time.time() - made > self.settings.change_log_retention_days * 86400:
                raise FailedPreconditionError(
                    "the resume token is older than the change history's retention "
                    f"({self.settings.change_log_retention_days} days): list what you "
                    "need, then watch from now",
                    reason="WATCH_TOKEN_EXPIRED",
                )
        if hub.closing:
            await _abort(
                context,
                Ending(
                    grpc.StatusCode.UNAVAILABLE,
                    "SHUTTING_DOWN",
                    "the server is shutting down; retry on another instance",
                    final=False,
                ),
            )
        if len(hub.streams) + self._opening >= self.settings.watch_max_streams:
            await _abort(
                context,
                Ending(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    "WATCH_TOO_MANY_STREAMS",
                    f"this server has {self.settings.watch_max_streams} streams open "
                    "(WATCH_MAX_STREAMS); retry with backoff or on another instance",
                    final=False,
                ),
            )
        self._opening += 1
        try:
            async with hub.database.unit_of_work(
                self.settings.max_statement_timeout_seconds, single_statement=True
            ) as uow:
                top, xmax = await horizon(uow.transaction)
        finally:
            self._opening -= 1
        # Nothing awaited from here to hub.open: no other stream gets in between.
        if start is None:
            # Between a live reader's reads, its cursor: the stream joins at once. A
            # reader that stopped with the last stream left its cursor in the past.
            idle = hub.following and not hub.reading
            start = hub.cursor if idle and hub.cursor is not None else Cursor(top)
        elif start.lower > xmax or start.upper > top:
            raise _bad_token("points past this database's transactions")
        stream = Stream(predicate, pinned(where))
        hub.open(stream)
        try:
            await self._serve(stream, start, context)
        except CallerGone:
            return
        finally:
            hub.close(stream)

    async def _serve(
        self, stream: Stream, cursor: Cursor, context: grpc.aio.ServicerContext[Any, Any]
    ) -> None:
        hub = self.hub
        started = time.monotonic()
        age_end = started + self.settings.watch_max_stream_age
        heartbeat = self.settings.watch_heartbeat_interval
        token = cursor.token()
        try:
            # At once: the caller holds a token before any event arrives.
            await self._write(stream, context, hub._response([], [], token))
            last_sent = time.monotonic()
            while not stream.joined and stream.ending is None:
                now = time.monotonic()
                if now >= age_end:
                    stream.end(_recycled())
                    break
                position = hub.cursor
                if position is not None and not hub.reading and cursor == position:
                    hub.join(stream)
                    break
                if now - last_sent >= heartbeat:
                    token = cursor.token()
                    await self._write(stream, context, hub._response([], [], token))
                    last_sent = time.monotonic()
                    continue
                if cursor.upper or (position is not None and cursor.lower < position.lower):
                    upper = None
                    if not cursor.upper and position is not None:
                        upper = min(position.lower, cursor.lower + CATCH_UP_XIDS)
                    window = await hub.page(cursor, upper)
                    full = len(window.rows) >= PAGE
                    after = cursor.after(window, full)
                    events = Events(hub.converter, window.rows, hub.max_bytes)
                    indexes = [i for i, row in enumerate(window.rows) if stream.predicate(row)]
                    if indexes:
                        for response in hub.responses(events, indexes, cursor, window, after):
                            await self._write(stream, context, response)
                            token = response.token
                        last_sent = time.monotonic()
                    cursor = after
                    continue
                wait = min(heartbeat - (now - last_sent), age_end - now)
                await hub.read_done(max(0.01, wait))
            while stream.ending is None:
                if stream.queue:
                    response = stream.queue.popleft()
                    stream.queued_events -= response.events
                    await self._write(stream, context, response)
                    token = response.token
                    last_sent = time.monotonic()
                    continue
                now = time.monotonic()
                if now >= age_end:
                    stream.end(_recycled())
                    break
                if now - last_sent >= heartbeat:
                    token = _now_token(hub, cursor)
                    await self._write(stream, context, hub._response([], [], token))
                    last_sent = time.monotonic()
                    continue
                stream.wake.clear()
                if stream.queue or stream.ending is not None:
                    continue
                wait = min(heartbeat - (now - last_sent), age_end - now)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stream.wake.wait(), max(0.01, wait))
            ending = stream.ending
            if ending is not None and ending.final:
                if not stream.dropped:
                    token = _now_token(hub, cursor) if stream.joined else cursor.token()
                await self._write(stream, context, hub._response([], [], token))
        except StreamEnded:
            pass
        ending = stream.ending
        if ending is not None:
            await _abort(context, ending, token)

    async def _write(
        self, stream: Stream, context: grpc.aio.ServicerContext[Any, Any], response: Response
    ) -> None:
        """One response, as fast as the caller reads it (grpc's flow control); the
        reader never waits for it. An ending while it waits ends the write."""
        if stream.ending is not None and not stream.ending.final:
            raise StreamEnded
        stream.writing = True
        try:
            await context.write(response.data)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if stream.ending is None or task is None:
                raise
            task.uncancel()
            raise StreamEnded from None
        except Exception:
            if context.done():  # the caller went away
                raise CallerGone from None
            raise
        finally:
            stream.writing = False
        metrics = self.hub.metrics
        if metrics is not None and response.events:
            metrics.watch_events.inc(response.events)
            now = time.time()
            for changed in response.changed_at:
                metrics.watch_lag.observe(max(0.0, now - changed))


def _now_token(hub: WatchHub, cursor: Cursor) -> str:
    return hub.cursor.token() if hub.cursor is not None else cursor.token()


def _recycled() -> Ending:
    return Ending(
        grpc.StatusCode.UNAVAILABLE,
        "WATCH_STREAM_RECYCLED",
        "the stream reached its maximum age (WATCH_MAX_STREAM_AGE); "
        "resume from the last resume_token",
        final=True,
    )


async def _abort(
    context: grpc.aio.ServicerContext[Any, Any], ending: Ending, token: str = ""
) -> None:
    metadata = {"resume_token": token} if token else None
    status = rich_status(ending.code, ending.message, ending.reason, metadata)
    await context.abort_with_status(status)  # type: ignore[attr-defined]
