"""The client side, in processes of their own so that the server's CPU is the
server's: a grpc.aio driver of the service's workloads, and the raw asyncpg loop
that is the floor they are compared with. Each process takes commands over a pipe
and answers with one result per measured run."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import signal
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from tests.health import health_stub

from .config import BATCH_SIZE, DEEP_PAGE_ROWS, PAGE_SIZE, UPDATE_USERS_PER_WORKER
from .cpu import (
    family_cpu_seconds,
    family_resident_mb,
    machine_busy_seconds,
    process_cpu_seconds,
    tree_cpu_seconds,
)

Op = Callable[[int], Awaitable[None]]
WINDOW_SLACK_SECONDS = 30.0
BALANCE_WITHIN_SECONDS = 120.0
# A pool of its own per channel, so each channel is its own HTTP/2 connection.
OWN_CONNECTION = [("grpc.use_local_subchannel_pool", 1)]


class Exhausted(Exception):
    """The delete workload ran out of rows seeded for it."""


@dataclass(frozen=True)
class ClientSpec:
    """What a client process is told when it starts."""

    kind: str  # "grpc" or "asyncpg"
    concurrency: int
    channels: int
    call_timeout: float
    ids_file: Path
    db_pid: int | None
    dsn: str | None = None


@dataclass
class Probe:
    """CPU seconds of the process serving the calls, of the client, of the database,
    and of the whole machine (so that other load on it shows)."""

    server_pid: int
    db_pid: int | None

    def read(self) -> tuple[float, float, float | None, float]:
        server = family_cpu_seconds(self.server_pid)
        client = process_cpu_seconds("self")
        database = tree_cpu_seconds(self.db_pid) if self.db_pid else None
        return server, client, database, machine_busy_seconds()


def describe(error: Exception) -> tuple[str, str]:
    """A gRPC status code's name and details, or the exception's type and text."""
    code, details = getattr(error, "code", None), getattr(error, "details", None)
    if callable(code) and callable(details):
        return str(getattr(code(), "name", code())), str(details())[:300]
    return type(error).__name__, str(error)[:300]


async def measure(
    op: Op, *, concurrency: int, warmup: float, duration: float, probe: Probe
) -> dict[str, Any]:
    """`concurrency` workers call `op` back to back; calls that end inside the window
    (after the warm-up, for `duration` seconds) are counted and timed."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    samples: dict[str, str] = {}
    state = {"open": False, "exhausted": False}
    start = time.perf_counter()
    stop_at = start + warmup + duration

    async def worker(index: int) -> None:
        while (began := time.perf_counter()) < stop_at:
            try:
                await op(index)
            except Exhausted:
                state["exhausted"] = True
                errors["EXHAUSTED"] += 1
                return
            except Exception as error:  # every failure is counted and shown, none hidden
                key, text = describe(error)
                errors[key] += 1
                samples.setdefault(key, text)
                continue
            if state["open"]:
                latencies.append(time.perf_counter() - began)

    async def window() -> dict[str, Any]:
        await asyncio.sleep(max(0.0, start + warmup - time.perf_counter()))
        before = probe.read()
        opened = time.perf_counter()
        state["open"] = True
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        state["open"] = False
        closed = time.perf_counter()
        after = probe.read()
        calls = len(latencies)
        server, client = after[0] - before[0], after[1] - before[1]
        database = None if after[2] is None or before[2] is None else after[2] - before[2]
        seconds = closed - opened
        ours = client + (database or 0.0) + (server if probe.server_pid != os.getpid() else 0.0)
        return {
            "calls": calls,
            "window_seconds": seconds,
            "ops_per_second": calls / seconds,
            "server_cpu_seconds": server,
            "client_cpu_seconds": client,
            "db_cpu_seconds": database,
            # Busy CPU of everything else on the machine (approximate without a
            # database of our own to measure): noise that the rounds cannot cancel.
            "other_cpu_seconds": max(0.0, after[3] - before[3] - ours),
            # Memory must stay flat; each run's reading shows the trend.
            "server_rss_mb": round(family_resident_mb(probe.server_pid), 1),
        }

    workers = [asyncio.ensure_future(worker(i)) for i in range(concurrency)]
    timing = asyncio.ensure_future(window())
    try:
        await asyncio.wait_for(
            asyncio.gather(timing, *workers), warmup + duration + WINDOW_SLACK_SECONDS
        )
    finally:
        for task in (timing, *workers):
            task.cancel()
    result = timing.result()
    result["latencies"] = latencies
    result["errors"] = sum(errors.values())
    result["errors_by_kind"] = dict(errors)
    result["error_samples"] = samples
    result["exhausted"] = state["exhausted"]
    return result


class GrpcDriver:
    """The service's workloads through the generated client, over a few channels."""

    def __init__(self, spec: ClientSpec) -> None:
        ids = json.loads(spec.ids_file.read_text())
        self.spec = spec
        self.read_ids: list[str] = ids["read_ids"]
        self.update_ids: list[str] = ids["update_ids"]
        self.delete_ids: deque[str] = deque(ids["delete_ids"])
        self.evidence_user: str = ids.get("evidence_user", "")
        self.channels: list[Any] = []
        self.deep_token = ""
        self.tag = uuid.uuid4().hex[:8]
        self.serial = itertools.count()
        self.owned: list[list[list[str]]] = []  # per worker: [id, etag] pairs
        self.conversations: list[str] = []  # per worker: the chat it sends to
        self.address = ""

    async def connect(self, address: str, deep: bool, workers: int = 0) -> dict[str, Any]:
        """`workers` > 0: the server runs that many processes on the port; channels are
        opened until each worker holds the same number of them."""
        import grpc
        from ruleiq.data.v1 import data_service_pb2_grpc, evidence_pb2_grpc, user_pb2_grpc

        await self.close()
        self.address = address
        answer: dict[str, Any] = {}
        if workers:
            self.channels, answer["channels_per_worker"] = await self._balanced(address, workers)
        else:
            self.channels = [
                grpc.aio.insecure_channel(address, options=OWN_CONNECTION)
                for _ in range(self.spec.channels)
            ]
        self.users = [user_pb2_grpc.UserServiceStub(c) for c in self.channels]
        self.commits = [data_service_pb2_grpc.DataServiceStub(c) for c in self.channels]
        self.evidence = [evidence_pb2_grpc.EvidenceServiceStub(c) for c in self.channels]
        self.health = [health_stub(c) for c in self.channels]
        if not deep:
            return answer
        started = time.perf_counter()
        self.deep_token = await self._deep_token()
        return {"deep_token_seconds": round(time.perf_counter() - started, 3)}

    async def _balanced(self, address: str, workers: int) -> tuple[list[Any], dict[str, int]]:
        """The kernel gives each new connection to a worker by a hash of its
        addresses; GetDatabaseInfo names the worker (its application_name), so a
        channel is kept only while its worker has fewer than its share."""
        import grpc
        from ruleiq.data.v1 import database_pb2, database_pb2_grpc

        share = -(-self.spec.channels // workers)
        kept: list[Any] = []
        counts: Counter[str] = Counter()
        deadline = time.monotonic() + BALANCE_WITHIN_SECONDS
        while len(kept) < share * workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"connections reached only {dict(counts)}")
            channel = grpc.aio.insecure_channel(address, options=OWN_CONNECTION)
            try:
                info = await database_pb2_grpc.DatabaseServiceStub(channel).GetDatabaseInfo(
                    database_pb2.GetDatabaseInfoRequest(), timeout=self.spec.call_timeout
                )
            except grpc.aio.AioRpcError:
                await channel.close(None)
                await asyncio.sleep(0.2)  # a worker still starting
                continue
            if counts[info.application_name] < share:
                counts[info.application_name] += 1
                kept.append(channel)
            else:
                await channel.close(None)
        return kept, dict(sorted(counts.items()))

    async def _deep_token(self) -> str:
        """Walk the first DEEP_PAGE_ROWS rows once; the token then points that deep."""
        from ruleiq.data.v1 import user_pb2

        token = ""
        for page in range(DEEP_PAGE_ROWS // PAGE_SIZE):
            reply = await self.users[0].ListUsers(
                user_pb2.ListUsersRequest(page_size=PAGE_SIZE, page_token=token),
                timeout=self.spec.call_timeout,
            )
            if len(reply.users) != PAGE_SIZE or not reply.next_page_token:
                raise RuntimeError(f"page {page} had {len(reply.users)} users and no next token")
            token = reply.next_page_token
        return token

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close(None)
        self.channels = []

    def _user(self, index: int) -> Any:
        return self.users[index % len(self.users)]

    async def prepare(self, workload: str) -> None:
        """Untimed set-up: the update workload's workers each own users and their etags;
        the chat-send one's each a conversation of their own."""
        if workload == "commit_chat_send":
            await self._prepare_conversations()
            return
        if workload != "update":
            return
        from ruleiq.data.v1 import user_pb2

        etags: dict[str, str] = {}
        for start in range(0, len(self.update_ids), 1000):
            reply = await self.users[0].BatchGetUsers(
                user_pb2.BatchGetUsersRequest(ids=self.update_ids[start : start + 1000]),
                timeout=self.spec.call_timeout,
            )
            etags.update((user.id, user.etag) for user in reply.users)
        n = self.spec.concurrency
        self.owned = [
            [[user_id, etags[user_id]] for user_id in self.update_ids[w::n]] for w in range(n)
        ]
        if any(len(owned) < UPDATE_USERS_PER_WORKER for owned in self.owned):
            raise RuntimeError("too few users seeded for the update workload")

    async def _prepare_conversations(self) -> None:
        from ruleiq.data.v1 import (
            business_profile_pb2,
            chat_conversation_pb2,
            data_service_pb2,
            user_pb2,
        )

        if len(self.conversations) >= self.spec.concurrency:
            return
        mutations, ids = [], []
        for _ in range(self.spec.concurrency):
            user_id, profile_id, chat_id = (str(uuid.uuid4()) for _ in range(3))
            email = f"bench-{self.tag}-{next(self.serial)}@chat.bench.example"
            mutations += [
                data_service_pb2.Mutation(
                    create_user=user_pb2.CreateUserRequest(
                        user=user_pb2.User(email=email, full_name="Bench Chat"), user_id=user_id
                    )
                ),
                data_service_pb2.Mutation(
                    create_business_profile=business_profile_pb2.CreateBusinessProfileRequest(
                        business_profile=business_profile_pb2.BusinessProfile(
                            user_id=user_id,
                            company_name="Bench Ltd",
                            industry="software",
                            employee_count=10,
                        ),
                        business_profile_id=profile_id,
                    )
                ),
                data_service_pb2.Mutation(
                    create_chat_conversation=chat_conversation_pb2.CreateChatConversationRequest(
                        chat_conversation=chat_conversation_pb2.ChatConversation(
                            user_id=user_id, business_profile_id=profile_id, title="Bench chat"
                        ),
                        chat_conversation_id=chat_id,
                    )
                ),
            ]
            ids.append(chat_id)
        for start in range(0, len(mutations), 99):
            await self.commits[0].Commit(
                data_service_pb2.CommitRequest(mutations=mutations[start : start + 99]),
                timeout=self.spec.call_timeout,
            )
        self.conversations = ids

    def op(self, workload: str) -> Op:
        from google.protobuf import field_mask_pb2
        from grpc_health.v1 import health_pb2
        from ruleiq.data.v1 import (
            chat_conversation_pb2,
            chat_message_pb2,
            data_service_pb2,
            evidence_pb2,
            user_pb2,
        )

        timeout = self.spec.call_timeout
        read_ids = self.read_ids
        choice, sample = random.choice, random.sample

        async def health(i: int) -> None:
            await self.health[i % len(self.health)].Check(
                health_pb2.HealthCheckRequest(), timeout=timeout
            )

        async def get(i: int) -> None:
            await self._user(i).GetUser(
                user_pb2.GetUserRequest(id=choice(read_ids)), timeout=timeout
            )

        async def batch_get(i: int) -> None:
            ids = sample(read_ids, BATCH_SIZE)
            reply = await self._user(i).BatchGetUsers(
                user_pb2.BatchGetUsersRequest(ids=ids), timeout=timeout
            )
            if len(reply.users) != BATCH_SIZE:
                raise RuntimeError(f"BatchGetUsers returned {len(reply.users)} users")

        async def list_first(i: int) -> None:
            reply = await self._user(i).ListUsers(
                user_pb2.ListUsersRequest(page_size=PAGE_SIZE), timeout=timeout
            )
            if len(reply.users) != PAGE_SIZE:
                raise RuntimeError(f"ListUsers returned {len(reply.users)} users")

        async def list_deep(i: int) -> None:
            reply = await self._user(i).ListUsers(
                user_pb2.ListUsersRequest(page_size=PAGE_SIZE, page_token=self.deep_token),
                timeout=timeout,
            )
            if len(reply.users) != PAGE_SIZE:
                raise RuntimeError(f"ListUsers returned {len(reply.users)} users")

        def evidence(i: int) -> Any:
            return self.evidence[i % len(self.evidence)]

        async def evidence_list_first(i: int) -> None:
            reply = await evidence(i).ListEvidence(
                evidence_pb2.ListEvidenceRequest(page_size=PAGE_SIZE), timeout=timeout
            )
            if len(reply.evidence) != PAGE_SIZE:
                raise RuntimeError(f"ListEvidence returned {len(reply.evidence)} items")

        async def evidence_search(i: int) -> None:
            reply = await evidence(i).ListEvidence(
                evidence_pb2.ListEvidenceRequest(page_size=PAGE_SIZE, filter='search("firewall")'),
                timeout=timeout,
            )
            if len(reply.evidence) != PAGE_SIZE:
                raise RuntimeError(f"search() returned {len(reply.evidence)} items")

        dashboard = evidence_pb2.AggregateEvidenceRequest(
            filter=f'user_id = "{self.evidence_user}"',
            group_by=["status", "framework_id"],
            metrics=["count", "avg(compliance_score_impact)"],
        )

        async def evidence_dashboard(i: int) -> None:
            reply = await evidence(i).AggregateEvidence(dashboard, timeout=timeout)
            if not reply.groups:
                raise RuntimeError("the dashboard aggregate returned no groups")

        async def create(i: int) -> None:
            email = f"bench-{self.tag}-{next(self.serial)}@create.bench.example"
            await self._user(i).CreateUser(
                user_pb2.CreateUserRequest(
                    user=user_pb2.User(email=email, full_name="Bench Created")
                ),
                timeout=timeout,
            )

        mask = field_mask_pb2.FieldMask(paths=["full_name"])

        async def update(i: int) -> None:
            owned = self.owned[i]
            entry = owned[next(self.serial) % len(owned)]
            request = user_pb2.UpdateUserRequest(
                user=user_pb2.User(id=entry[0], full_name=f"Bench Updated {next(self.serial)}"),
                update_mask=mask,
                etag=entry[1],
            )
            try:
                reply = await self._user(i).UpdateUser(request, timeout=timeout)
            except Exception:
                # Whatever went wrong, the next update of this row needs its real etag.
                fresh = await self._user(i).GetUser(
                    user_pb2.GetUserRequest(id=entry[0]), timeout=timeout
                )
                entry[1] = fresh.etag
                raise
            entry[1] = reply.etag

        async def batch_create(i: int) -> None:
            requests = [
                user_pb2.CreateUserRequest(
                    user=user_pb2.User(
                        email=f"bench-{self.tag}-{next(self.serial)}@batch.bench.example",
                        full_name="Bench Batch",
                    )
                )
                for _ in range(BATCH_SIZE)
            ]
            reply = await self._user(i).BatchCreateUsers(
                user_pb2.BatchCreateUsersRequest(requests=requests), timeout=timeout
            )
            if len(reply.users) != BATCH_SIZE:
                raise RuntimeError(f"BatchCreateUsers returned {len(reply.users)} users")

        title_mask = field_mask_pb2.FieldMask(paths=["title"])

        async def chat_send(i: int) -> None:
            # The platform's chat send: the user's message, the reply, the chat touched.
            chat_id = self.conversations[i]
            mutations = [
                data_service_pb2.Mutation(
                    create_chat_message=chat_message_pb2.CreateChatMessageRequest(
                        chat_message=chat_message_pb2.ChatMessage(
                            conversation_id=chat_id, role=role, content=content
                        )
                    )
                )
                for role, content in (
                    (chat_message_pb2.CHAT_MESSAGE_ROLE_USER, "What does A.9 ask?"),
                    (chat_message_pb2.CHAT_MESSAGE_ROLE_ASSISTANT, "Access control."),
                )
            ]
            mutations.append(
                data_service_pb2.Mutation(
                    update_chat_conversation=chat_conversation_pb2.UpdateChatConversationRequest(
                        chat_conversation=chat_conversation_pb2.ChatConversation(
                            id=chat_id, title=f"Bench chat {next(self.serial)}"
                        ),
                        update_mask=title_mask,
                    )
                )
            )
            reply = await self.commits[i % len(self.commits)].Commit(
                data_service_pb2.CommitRequest(mutations=mutations), timeout=timeout
            )
            if len(reply.results) != 3:
                raise RuntimeError(f"Commit returned {len(reply.results)} results")

        async def delete(i: int) -> None:
            if not self.delete_ids:
                raise Exhausted
            await self._user(i).DeleteUser(
                user_pb2.DeleteUserRequest(id=self.delete_ids.popleft()), timeout=timeout
            )

        ops: dict[str, Op] = {
            "health": health,
            "get": get,
            "batch_get_100": batch_get,
            "list_first_page": list_first,
            "list_deep_page": list_deep,
            "evidence_list_first": evidence_list_first,
            "evidence_search": evidence_search,
            "evidence_dashboard": evidence_dashboard,
            "create": create,
            "commit_chat_send": chat_send,
            "batch_create_100": batch_create,
            "update": update,
            "delete": delete,
        }
        return ops[workload]


class AsyncpgDriver:
    """The floor: the same primary-key SELECT straight through asyncpg, no service."""

    POOL_SIZE = 10

    def __init__(self, spec: ClientSpec) -> None:
        ids = json.loads(spec.ids_file.read_text())
        self.spec = spec
        self.read_ids = [uuid.UUID(value) for value in ids["read_ids"]]
        self.pool: Any = None

    async def connect(self, address: str, deep: bool, workers: int = 0) -> dict[str, Any]:
        import asyncpg

        await self.close()
        self.pool = await asyncpg.create_pool(
            self.spec.dsn, min_size=self.POOL_SIZE, max_size=self.POOL_SIZE
        )
        return {}

    async def close(self) -> None:
        if self.pool is not None:
            await asyncio.wait_for(self.pool.close(), 10)
            self.pool = None

    async def prepare(self, workload: str) -> None:
        return None

    def op(self, workload: str) -> Op:
        if workload != "asyncpg_raw":
            raise KeyError(workload)
        pool, read_ids, choice = self.pool, self.read_ids, random.choice
        timeout = self.spec.call_timeout

        async def select(i: int) -> None:
            row = await pool.fetchrow(
                "SELECT * FROM users WHERE id = $1", choice(read_ids), timeout=timeout
            )
            if row is None:
                raise RuntimeError("a known id was not found")

        return select


async def _serve(connection: Connection, spec: ClientSpec) -> None:
    driver: GrpcDriver | AsyncpgDriver = (
        GrpcDriver(spec) if spec.kind == "grpc" else AsyncpgDriver(spec)
    )
    probe = Probe(server_pid=os.getpid(), db_pid=spec.db_pid)
    try:
        while True:
            command, *args = connection.recv()
            try:
                if command == "close":
                    return
                if command == "connect":
                    address, server_pid, deep, *rest = args
                    if spec.kind == "grpc":
                        probe = Probe(server_pid=server_pid, db_pid=spec.db_pid)
                    answer: dict[str, Any] = await driver.connect(address, deep, *rest)
                elif command == "run":
                    workload, warmup, duration = args
                    await driver.prepare(workload)
                    answer = await measure(
                        driver.op(workload),
                        concurrency=spec.concurrency,
                        warmup=warmup,
                        duration=duration,
                        probe=probe,
                    )
                else:
                    raise ValueError(f"unknown command {command!r}")
                connection.send({"ok": True, **answer})
            except Exception as error:  # reported to the parent, which stops the run
                connection.send({"ok": False, "error": f"{type(error).__name__}: {error}"})
    finally:
        await driver.close()


def client_main(connection: Connection, spec: ClientSpec) -> None:
    """Entry point of a client process (multiprocessing, spawn). Ctrl-C is the
    parent's to handle: it closes or terminates this process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(KeyboardInterrupt, EOFError, BrokenPipeError):
        asyncio.run(_serve(connection, spec))
