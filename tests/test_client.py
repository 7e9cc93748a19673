"""The hand-written client (ruleiq.data.client) as another service uses it: from a
fresh virtual environment holding only `pip install ./protos`, against real servers,
with real failures: typed errors, pages, retried creates, read-modify-write."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import textwrap
import uuid
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from ruleiq.data import client
from ruleiq.data.v1 import change_pb2, change_pb2_grpc, user_pb2, user_pb2_grpc
from sqlalchemy import text

from repositories.database import Database
from service.server import App

from .api import Api
from .apps import running
from .certs import Authority, tls
from .client_venv import ClientVenv, run_script
from .proxy import losing_first_reply, silent_peer
from .service_process import ServiceProcess
from .tokens import POLICY, TOKENS

MODES = ["sync", "async"]

# Runs every call of a script's CALLS list either on the sync API or on grpc.aio,
# so each behaviour is checked through both with the same code.
PRELUDE = """
import asyncio, json, sys, uuid
import grpc
from google.protobuf import field_mask_pb2
from ruleiq.data import client
from ruleiq.data.v1 import (
    assessment_session_pb2 as sessions_pb2, assessment_session_pb2_grpc as sessions_grpc,
    business_profile_pb2, business_profile_pb2_grpc, user_pb2, user_pb2_grpc,
)

MODE = sys.argv[1]


def channel(target, **options):
    return (client.channel if MODE == "sync" else client.aio_channel)(target, **options)


async def call(method, *args, **kwargs):
    result = method(*args, **kwargs)
    return await result if MODE == "async" else result


def described(error):
    return {
        "class": type(error).__name__,
        "bases": [c.__name__ for c in type(error).__mro__],
        "code": error.code().name,
        "reason": error.reason,
        "domain": error.domain,
        "metadata": dict(error.metadata),
        "request_id": error.request_id,
        "violations": [[v.field, v.description] for v in getattr(error, "violations", ())],
        "retry_delay": getattr(error, "retry_delay", None),
    }


async def failure(method, *args, **kwargs):
    try:
        await call(method, *args, **kwargs)
    except client.DataError as error:
        return described(error)
    raise AssertionError(f"{method} did not fail")
"""


def script(body: str) -> str:
    return PRELUDE + textwrap.dedent(body)


async def outcome(venv: ClientVenv, body: str, *args: Any) -> Any:
    """Run `body` in the client's venv; its last line of output is JSON."""
    output = await run_script(venv, script(body), *map(str, args))
    return json.loads(output.strip().splitlines()[-1])


ERRORS = """
target, stopped, silent, email = sys.argv[2:6]


async def main():
    ch = channel(target)
    users = user_pb2_grpc.UserServiceStub(ch)
    profiles = business_profile_pb2_grpc.BusinessProfileServiceStub(ch)
    new = user_pb2.CreateUserRequest(user=user_pb2.User(email=email, full_name="Typed"))
    created = await call(users.CreateUser, new)
    mask = field_mask_pb2.FieldMask(paths=["full_name"])
    renamed = await call(users.UpdateUser, user_pb2.UpdateUserRequest(
        user=user_pb2.User(id=created.id, full_name="Renamed"), update_mask=mask,
        etag=created.etag))
    seen = {
        "NOT_FOUND": await failure(users.GetUser, user_pb2.GetUserRequest(id=str(uuid.uuid4()))),
        "ALREADY_EXISTS": await failure(users.CreateUser, new),
        "INVALID_ARGUMENT": await failure(users.GetUser, user_pb2.GetUserRequest(id="nope")),
        "FAILED_PRECONDITION": await failure(
            profiles.CreateBusinessProfile,
            business_profile_pb2.CreateBusinessProfileRequest(
                business_profile=business_profile_pb2.BusinessProfile(
                    user_id=str(uuid.uuid4()), company_name="Ghost Ltd", industry="none",
                    employee_count=5))),
        "ETAG_MISMATCH": await failure(users.UpdateUser, user_pb2.UpdateUserRequest(
            user=user_pb2.User(id=created.id, full_name="Lost"), update_mask=mask,
            etag=created.etag)),
        # A peer that never answers: a 1 us timeout on the real server lost the race
        # to a fast reply now and then.
        "DEADLINE_EXCEEDED": await failure(
            user_pb2_grpc.UserServiceStub(channel(silent)).ListUsers,
            user_pb2.ListUsersRequest(), timeout=0.2),
        "UNAVAILABLE": await failure(
            user_pb2_grpc.UserServiceStub(channel(stopped)).GetUser,
            user_pb2.GetUserRequest(id=created.id), timeout=5),
    }
    unknown = ch.unary_unary(
        "/ruleiq.data.v1.UserService/NoSuchMethod",
        request_serializer=user_pb2.GetUserRequest.SerializeToString,
        response_deserializer=user_pb2.User.FromString)
    seen["other codes"] = await failure(unknown, user_pb2.GetUserRequest(id=created.id))
    # No timeout= on these calls to a peer that never answers: only the channel's
    # default deadline for each kind of method ends them.
    hung = user_pb2_grpc.UserServiceStub(
        channel(silent, defaults=client.Defaults(read_timeout=0.5, write_timeout=0.5)))
    seen["default read deadline"] = await failure(
        hung.GetUser, user_pb2.GetUserRequest(id=created.id))
    seen["default write deadline"] = await failure(hung.CreateUser, new)
    seen["times"] = {
        "aware": client.timestamp_of(renamed, "updated_at").utcoffset() is not None,
        "round_trip": client.from_datetime(client.to_datetime(renamed.created_at))
            == renamed.created_at,
        "unset": client.timestamp_of(user_pb2.User(), "created_at"),
    }
    print(json.dumps(seen))


asyncio.run(main())
"""


@pytest.mark.parametrize("mode", MODES)
async def test_each_failure_is_raised_as_its_typed_error(
    client_venv: ClientVenv, grpc_app: App, database: Database, database_url: str, mode: str
) -> None:
    async with running(database_url) as gone:
        stopped = f"127.0.0.1:{gone.port}"
    email = f"typed-{uuid.uuid4().hex[:10]}@example.com"
    async with silent_peer() as silent:
        seen = await outcome(
            client_venv,
            ERRORS,
            mode,
            f"127.0.0.1:{grpc_app.port}",
            stopped,
            f"127.0.0.1:{silent}",
            email,
        )

    def check(case: str, cls: str, reason: str | None) -> dict[str, Any]:
        """reason None: the client may give up before the server answers, or not."""
        error: dict[str, Any] = seen[case]
        assert error["class"] == cls, error
        assert {"DataError", "RpcError"} <= set(error["bases"]), error
        if reason is not None:
            assert error["reason"] == reason, error
        if reason:  # from the server: its ErrorInfo and its request id
            assert error["domain"] == "data.ruleiq", error
            assert error["request_id"], error
        return error

    assert check("NOT_FOUND", "NotFound", "NOT_FOUND")["metadata"]["resource"]
    assert (
        "email" in check("ALREADY_EXISTS", "AlreadyExists", "ALREADY_EXISTS")["metadata"]["fields"]
    )
    invalid = check("INVALID_ARGUMENT", "InvalidArgument", "INVALID_ARGUMENT")
    assert [field for field, _ in invalid["violations"]] == ["id"], invalid
    check("FAILED_PRECONDITION", "FailedPrecondition", "PARENT_NOT_FOUND")
    stale = check("ETAG_MISMATCH", "EtagMismatch", "ETAG_MISMATCH")
    assert "Aborted" in stale["bases"]
    assert stale["code"] == "ABORTED"
    assert check("DEADLINE_EXCEEDED", "DeadlineExceeded", None)["code"] == "DEADLINE_EXCEEDED"
    unavailable = check("UNAVAILABLE", "Unavailable", "")
    assert unavailable["request_id"] is None  # no server answered
    assert unavailable["retry_delay"] is None
    assert seen["times"] == {"aware": True, "round_trip": True, "unset": None}
    other = seen["other codes"]
    assert (other["class"], other["code"]) == ("DataError", "UNIMPLEMENTED"), other
    assert seen["default read deadline"]["class"] == "DeadlineExceeded"
    assert seen["default write deadline"]["class"] == "DeadlineExceeded"


AUTH = """
target, reader, writer = sys.argv[2:5]
tls = client.Tls(*sys.argv[5:8]) if len(sys.argv) > 5 else None


async def main():
    def users(token):
        return user_pb2_grpc.UserServiceStub(channel(target, tls=tls, token=token))

    new = user_pb2.CreateUserRequest(
        user=user_pb2.User(email=f"auth-{uuid.uuid4().hex[:10]}@example.com"))
    made = await call(users(writer).CreateUser, new)
    listed = await call(users(reader).ListUsers, user_pb2.ListUsersRequest(
        filter=f'email = "{made.email}"'))
    print(json.dumps({
        "written_and_read": [u.id for u in listed.users] == [made.id],
        "UNAUTHENTICATED": await failure(users(None).ListUsers, user_pb2.ListUsersRequest()),
        "wrong token": await failure(users("not-a-token").ListUsers, user_pb2.ListUsersRequest()),
        "PERMISSION_DENIED": await failure(users(reader).CreateUser, new),
    }))


asyncio.run(main())
"""


def check_refusals(seen: dict[str, Any]) -> None:
    assert seen["written_and_read"], seen
    for case, cls, reason in [
        ("UNAUTHENTICATED", "Unauthenticated", "MISSING_CREDENTIALS"),
        ("wrong token", "Unauthenticated", "INVALID_CREDENTIALS"),
        ("PERMISSION_DENIED", "PermissionDenied", "NOT_ALLOWED"),
    ]:
        assert (seen[case]["class"], seen[case]["reason"]) == (cls, reason), seen[case]
        assert seen[case]["domain"] == "data.ruleiq", seen[case]
    assert seen["PERMISSION_DENIED"]["metadata"]["permission"] == "write"


@pytest.mark.parametrize("mode", MODES)
async def test_a_token_on_a_plaintext_channel_is_sent_and_refusals_are_typed(
    client_venv: ClientVenv, database: Database, database_url: str, mode: str
) -> None:
    async with running(database_url, auth_tokens=json.dumps(POLICY)) as app:
        seen = await outcome(
            client_venv, AUTH, mode, f"127.0.0.1:{app.port}", TOKENS["reader"], TOKENS["writer"]
        )
    check_refusals(seen)


async def test_a_token_travels_as_call_credentials_under_mutual_tls(
    client_venv: ClientVenv, database: Database, database_url: str, tmp_path: Any
) -> None:
    ca = Authority(tmp_path)
    server, caller = ca.issue("ruleiq-data", server=True), ca.issue("billing", server=False)
    async with running(database_url, auth_tokens=json.dumps(POLICY), **tls(server, ca)) as app:
        seen = await outcome(
            client_venv,
            AUTH,
            "sync",
            f"127.0.0.1:{app.port}",
            TOKENS["reader"],
            TOKENS["writer"],
            ca.cert_file,
            caller.cert_file,
            caller.key_file,
        )
    check_refusals(seen)


PAGES = """
target, tag = sys.argv[2:4]


async def main():
    users = user_pb2_grpc.UserServiceStub(channel(target))
    request = user_pb2.ListUsersRequest(
        filter=f'email > "{tag}" AND email < "{tag}z"', order_by="email", page_size=1000)
    if MODE == "sync":
        sizes = [len(page.users) for page in client.pages(users.ListUsers, request)]
        emails = [u.email for u in client.items(users.ListUsers, request)]
        default_size = sum(1 for _ in client.items(
            users.ListUsers, user_pb2.ListUsersRequest(filter=request.filter), timeout=10))
    else:
        sizes = [len(page.users) async for page in client.apages(users.ListUsers, request)]
        emails = [u.email async for u in client.aitems(users.ListUsers, request)]
        default_size = len([u async for u in client.aitems(
            users.ListUsers, user_pb2.ListUsersRequest(filter=request.filter), timeout=10)])
    print(json.dumps({"sizes": sizes, "emails": emails, "default": default_size,
                      "untouched": request.page_token == ""}))


asyncio.run(main())
"""

ROWS = 2500


@pytest.mark.parametrize("mode", MODES)
async def test_iterators_walk_every_page_of_a_list(
    client_venv: ClientVenv, grpc_app: App, database: Database, mode: str
) -> None:
    tag = f"pages-{uuid.uuid4().hex[:8]}-"
    async with database.async_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO users (id, email, full_name) SELECT gen_random_uuid(),"
                " :tag || lpad(i::text, 4, '0') || '@example.com', 'Paged'"
                " FROM generate_series(1, :rows) AS i"
            ),
            {"tag": tag, "rows": ROWS},
        )
    seen = await outcome(client_venv, PAGES, mode, f"127.0.0.1:{grpc_app.port}", tag)
    assert seen["sizes"] == [1000, 1000, 500]
    assert seen["emails"] == [f"{tag}{i:04d}@example.com" for i in range(1, ROWS + 1)]
    assert seen["default"] == ROWS  # 50 pages of the default size
    assert seen["untouched"], "the caller's request was changed"


CREATE = """
target, user_id = sys.argv[2:4]


async def main():
    sessions = sessions_grpc.AssessmentSessionServiceStub(channel(target))
    request = sessions_pb2.CreateAssessmentSessionRequest(
        assessment_session=sessions_pb2.AssessmentSession(user_id=user_id))
    create = client.create if MODE == "sync" else client.acreate
    made = await call(create, sessions.CreateAssessmentSession, request, timeout=5,
                     retry=client.Retry(deadline=60))
    print(json.dumps({"id": made.id, "request_untouched": request.request_id == ""}))


asyncio.run(main())
"""


@pytest.mark.parametrize("mode", MODES)
async def test_a_create_whose_reply_was_lost_is_retried_into_one_row(
    client_venv: ClientVenv, grpc_app: App, api: Api, mode: str
) -> None:
    user = await api.make("User")
    async with losing_first_reply(grpc_app.port) as proxy:
        seen = await outcome(client_venv, CREATE, mode, f"127.0.0.1:{proxy.port}", user.id)
    assert proxy.replies_lost == 1  # the first call did reach the server, its reply did not
    assert proxy.connections >= 2
    pb = api.pb("AssessmentSession")
    listed = await api.AssessmentSession.ListAssessmentSessions(
        pb.ListAssessmentSessionsRequest(filter=f'user_id = "{user.id}"'), timeout=10
    )
    assert [s.id for s in listed.assessment_sessions] == [seen["id"]]
    assert seen["request_untouched"]


WRITERS = """
import threading

target, session_id = sys.argv[2:4]
WRITERS, EACH = 8, 5


async def main():
    sessions = sessions_grpc.AssessmentSessionServiceStub(channel(target))
    conflicts = []
    get = lambda: sessions.GetAssessmentSession(sessions_pb2.GetAssessmentSessionRequest(
        id=session_id))

    def change(current):
        request = sessions_pb2.UpdateAssessmentSessionRequest(
            assessment_session=sessions_pb2.AssessmentSession(
                id=current.id, current_stage=current.current_stage + 1),
            update_mask=field_mask_pb2.FieldMask(paths=["current_stage"]),
            etag=current.etag)
        return sessions.UpdateAssessmentSession(request)

    if MODE == "sync":
        def counted(current):
            try:
                return change(current)
            except client.EtagMismatch:
                conflicts.append(1)
                raise

        def writer():
            for _ in range(EACH):
                client.read_modify_write(get, counted, attempts=200)

        threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        async def counted(current):
            try:
                return await change(current)
            except client.EtagMismatch:
                conflicts.append(1)
                raise

        async def writer():
            for _ in range(EACH):
                await client.aread_modify_write(get, counted, attempts=200)

        await asyncio.gather(*(writer() for _ in range(WRITERS)))
    final = await call(get)
    print(json.dumps({"stage": final.current_stage, "conflicts": len(conflicts)}))


asyncio.run(main())
"""


@pytest.mark.parametrize("mode", MODES)
async def test_read_modify_write_loses_no_update_among_concurrent_writers(
    client_venv: ClientVenv, grpc_app: App, api: Api, mode: str
) -> None:
    made = await api.make("AssessmentSession", current_stage=1)
    seen = await outcome(client_venv, WRITERS, mode, f"127.0.0.1:{grpc_app.port}", made.id)
    assert seen["stage"] == 1 + 8 * 5, seen


CHANNEL_RETRIES = """
read_target, write_target, user_id, email = sys.argv[2:6]


async def main():
    reader = user_pb2_grpc.UserServiceStub(channel(read_target))
    writer = user_pb2_grpc.UserServiceStub(channel(write_target))
    read = await call(reader.GetUser, user_pb2.GetUserRequest(id=user_id))
    write = await failure(writer.CreateUser, user_pb2.CreateUserRequest(
        user=user_pb2.User(email=email)))
    print(json.dumps({"read": read.id, "write": write}))


asyncio.run(main())
"""


@pytest.mark.parametrize("mode", MODES)
async def test_the_channel_retries_a_read_whose_reply_was_lost_but_never_a_write(
    client_venv: ClientVenv, grpc_app: App, api: Api, mode: str
) -> None:
    """The service config's retry policy covers reads only: a write whose reply was
    lost reaches the caller as Unavailable, though it happened (so only `create`,
    with its request_id, repeats one)."""
    user = await api.make("User")
    email = f"once-{uuid.uuid4().hex[:10]}@example.com"
    async with (
        losing_first_reply(grpc_app.port) as reads,
        losing_first_reply(grpc_app.port) as writes,
    ):
        seen = await outcome(
            client_venv,
            CHANNEL_RETRIES,
            mode,
            f"127.0.0.1:{reads.port}",
            f"127.0.0.1:{writes.port}",
            user.id,
            email,
        )
    assert reads.replies_lost == writes.replies_lost == 1
    assert seen["read"] == user.id
    assert seen["write"]["class"] == "Unavailable"
    listed = await api.User.ListUsers(
        api.pb("User").ListUsersRequest(filter=f'email = "{email}"'), timeout=10
    )
    assert len(listed.users) == 1  # the refused write was done


WATCH = """
from ruleiq.data.v1 import change_pb2_grpc

target, token, tag, expected = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
FILTER = 'resource_type = "User"'
FAST = client.Backoff(initial=0.05, maximum=0.5)


OURS = set()


def mine(event):
    # An update records only what it changed: a user is ours from its create on.
    if event.operation == "create" and event.after["email"].endswith(tag):
        OURS.add(event.resource_id)
    return event.resource_id in OURS


def show(event):
    print(json.dumps({"resource_id": event.resource_id, "revision": event.revision}),
          flush=True)


async def main():
    changes = change_pb2_grpc.ChangeServiceStub(channel(target))
    seen = 0
    if MODE == "sync":
        for event in client.watch(changes.WatchChanges, filter=FILTER, resume_token=token,
                                  backoff=FAST, give_up_after=120):
            if mine(event):
                show(event)
                seen += 1
                if seen == expected:
                    break
    else:
        async for event in client.awatch(changes.WatchChanges, filter=FILTER,
                                         resume_token=token, backoff=FAST,
                                         give_up_after=120):
            if mine(event):
                show(event)
                seen += 1
                if seen == expected:
                    break
    print(json.dumps({"done": seen}), flush=True)


asyncio.run(main())
"""


class _Lines:
    """The JSON lines a running script prints, collected as they come."""

    @classmethod
    async def of_script(cls, venv: ClientVenv, path: Path, body: str, *args: str) -> _Lines:
        """Start `body` in the client's venv (as `path`) and collect what it prints."""
        await asyncio.to_thread(path.write_text, script(body))
        process = await asyncio.create_subprocess_exec(
            str(venv.python),
            "-I",
            str(path),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=venv.env(),
        )
        return cls(process)

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[dict[str, Any]] = []
        self.ended = False
        self.changed = asyncio.Condition()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        try:
            while line := await self.process.stdout.readline():
                async with self.changed:
                    self.lines.append(json.loads(line))
                    self.changed.notify_all()
        finally:
            async with self.changed:
                self.ended = True
                self.changed.notify_all()

    async def at_least(self, count: int, within: float) -> None:
        """Wait for `count` lines; a generous bound only keeps a broken run from hanging."""
        async with self.changed:
            await asyncio.wait_for(
                self.changed.wait_for(lambda: len(self.lines) >= count or self.ended), within
            )
        assert len(self.lines) >= count, (self.lines, await self.errors())

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()

    async def errors(self) -> str:
        assert self.process.stderr is not None
        if self.process.returncode is None:
            return ""
        return (await self.process.stderr.read()).decode()


async def _start_token(target: str) -> str:
    """The token a WatchChanges from now starts at (its first response's)."""
    async with grpc.aio.insecure_channel(target) as ch:
        call = change_pb2_grpc.ChangeServiceStub(ch).WatchChanges(
            change_pb2.WatchChangesRequest(filter='resource_type = "User"'), timeout=30
        )
        first = await call.read()
        call.cancel()
    assert isinstance(first, change_pb2.WatchChangesResponse), first
    assert not first.changes
    assert first.resume_token
    return first.resume_token


async def _users(target: str, tag: str, count: int, *, rename: bool) -> None:
    async with grpc.aio.insecure_channel(target) as ch:
        users = user_pb2_grpc.UserServiceStub(ch)
        for i in range(count):
            made = await users.CreateUser(
                user_pb2.CreateUserRequest(
                    user=user_pb2.User(email=f"w{i}-{uuid.uuid4().hex[:8]}{tag}")
                ),
                timeout=10,
            )
            if rename:
                await users.UpdateUser(
                    user_pb2.UpdateUserRequest(
                        user=user_pb2.User(id=made.id, full_name=f"Renamed {i}"),
                        update_mask=field_mask_pb2.FieldMask(paths=["full_name"]),
                    ),
                    timeout=10,
                )


@pytest.mark.parametrize("mode", MODES)
async def test_the_watch_iterator_survives_a_server_restart_without_a_gap_or_a_repeat(
    client_venv: ClientVenv, database: Database, database_url: str, tmp_path: Path, mode: str
) -> None:
    """kill -9 of the server mid-stream: the iterator resumes on the next server from
    its last token, and hands out every event of the test's users exactly once."""
    tag = f"@watch-{uuid.uuid4().hex[:8]}.example.com"
    before, after = 15, 10
    expected = 2 * before + after  # creates and renames, then creates
    first = ServiceProcess(database_url, tmp_path / "first.log")
    second: ServiceProcess | None = None
    lines: _Lines | None = None
    try:
        await first.ready()
        token = await _start_token(first.address)
        lines = await _Lines.of_script(
            client_venv,
            tmp_path / "watch.py",
            WATCH,
            mode,
            first.address,
            token,
            tag,
            str(expected),
        )
        await _users(first.address, tag, before, rename=True)
        await lines.at_least(1, within=60)  # the stream delivers: now break it
        first.kill()
        second = ServiceProcess(database_url, tmp_path / "second.log", port=first.port)
        await second.ready()
        await _users(second.address, tag, after, rename=False)
        await lines.at_least(expected + 1, within=120)
        assert lines.lines[-1] == {"done": expected}, await lines.errors()
    finally:
        if lines is not None:
            await lines.stop()
        first.kill()
        if second is not None:
            second.stop()
    handed_out = [(line["resource_id"], line["revision"]) for line in lines.lines[:-1]]
    async with database.async_engine.connect() as connection:
        recorded = (
            await connection.execute(
                text(
                    "SELECT resource_id::text, revision FROM change_events"
                    " WHERE resource_type = 'User' AND resource_id IN ("
                    " SELECT resource_id FROM change_events WHERE resource_type = 'User'"
                    " AND operation = 'create' AND after ->> 'email' LIKE :pattern)"
                ),
                {"pattern": f"%{tag}"},
            )
        ).all()
    assert len(recorded) == expected
    assert sorted(handed_out) == sorted((r, n) for r, n in recorded)  # each once, none missed


def test_a_stream_gets_no_default_deadline_and_no_channel_retry() -> None:
    """A watch lasts as long as its caller reads and resumes from its own tokens: a
    default deadline would cut it, a channel retry would start it again from the start."""
    named = {
        (name["service"], name["method"])
        for config in client.service_config()["methodConfig"]
        for name in config["name"]
    }
    assert ("ruleiq.data.v1.ChangeService", "ListChanges") in named
    assert ("ruleiq.data.v1.ChangeService", "WatchChanges") not in named


RELIST = """
from ruleiq.data.v1 import change_pb2_grpc

target, expired, tag = sys.argv[2:5]
FILTER = 'resource_type = "User"'


def mine(event):
    return event.after["email"].endswith(tag)


async def main():
    changes = change_pb2_grpc.ChangeServiceStub(channel(target))
    try:
        stream = (client.watch if MODE == "sync" else client.awatch)(
            changes.WatchChanges, filter=FILTER, resume_token=expired)
        if MODE == "sync":
            next(iter(stream))
        else:
            await stream.__anext__()
    except client.DataError as error:
        print(json.dumps({"without relist": described(error)}), flush=True)

    def relisted():
        print(json.dumps({"relisted": True}), flush=True)

    async def arelisted():
        relisted()

    if MODE == "sync":
        stream = client.watch(changes.WatchChanges, filter=FILTER, resume_token=expired,
                              relist=relisted)
        event = next(event for event in stream if mine(event))
    else:
        stream = client.awatch(changes.WatchChanges, filter=FILTER, resume_token=expired,
                               relist=arelisted)
        event = None
        async for event in stream:
            if mine(event):
                break
        await stream.aclose()
    print(json.dumps({"event": event.resource_id, "token": bool(stream.resume_token)}),
          flush=True)


asyncio.run(main())
"""


def _expired_token() -> str:
    """A token of this service's shape, made long before the history's retention."""
    raw = struct.pack(">Bqqqq", 1, 1, 0, 0, 1000)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("mode", MODES)
async def test_an_expired_token_relists_through_the_callback_then_streams_from_now(
    client_venv: ClientVenv, grpc_app: App, tmp_path: Path, mode: str
) -> None:
    """Without a relist callback the expiry is raised, typed; with one, the watch starts
    from now, relists once that stream is open, and then hands out what is written."""
    tag = f"@relist-{uuid.uuid4().hex[:8]}.example.com"
    target = f"127.0.0.1:{grpc_app.port}"
    lines = await _Lines.of_script(
        client_venv, tmp_path / "relist.py", RELIST, mode, target, _expired_token(), tag
    )
    try:
        await lines.at_least(2, within=60)  # refused, then relisted on the new stream
        await _users(target, tag, 1, rename=False)
        await lines.at_least(3, within=60)
    finally:
        await lines.stop()
    refused = lines.lines[0]["without relist"]
    assert (refused["class"], refused["reason"]) == ("FailedPrecondition", "WATCH_TOKEN_EXPIRED")
    assert lines.lines[1] == {"relisted": True}
    assert lines.lines[2]["token"] is True
    async with grpc.aio.insecure_channel(target) as ch:
        listed = await user_pb2_grpc.UserServiceStub(ch).ListUsers(
            user_pb2.ListUsersRequest(filter=f'email = "*{tag}"'), timeout=10
        )
    assert [u.id for u in listed.users] == [lines.lines[2]["event"]]
