"""The service as an outside caller and an on-call engineer see it: the real grpcurl
and `buf curl` binaries against the running server, and the README's own lines run
as written."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection
from ruleiq.data.v1 import change_pb2, data_service_pb2, database_pb2, user_pb2

from repositories.config import PROJECT_ROOT as ROOT
from repositories.config import DatabaseSettings
from repositories.names import snake
from service.resources import RESOURCES
from service.server import App
from service.settings import ServiceSettings

README = ROOT / "README.md"
# grpcurl and buf come with the dev dependencies, next to this interpreter.
TOOLS = Path(sys.executable).parent
README_ADDRESS = "localhost:50051"
# The README's example e-mail; replaced by a fresh one per run, because the test
# database is shared by the whole run and protos/README.md uses the same address.
README_EMAIL = "ada@example.com"
TIMEOUT = 30.0


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


def tool_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the README asks for: .venv/bin first on PATH."""
    return {
        **os.environ,
        "PATH": f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}",
        **(extra or {}),
    }


async def run(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run a command without blocking the event loop the server answers on."""
    process = await asyncio.create_subprocess_exec(
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env or tool_env(),
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"timed out after {TIMEOUT}s: {args}") from None
    assert process.returncode is not None
    return Result(process.returncode, stdout.decode(), stderr.decode())


def grpcurl_path() -> str:
    path = shutil.which("grpcurl", path=str(TOOLS))
    assert path, f"grpcurl is not in {TOOLS}: run make install (dev dependencies)"
    return path


async def grpcurl(app: App, *args: str, data: object | None = None) -> Result:
    """`grpcurl -plaintext [-d JSON] 127.0.0.1:PORT args...`."""
    request = ["-d", json.dumps(data)] if data is not None else []
    return await run(grpcurl_path(), "-plaintext", *request, f"127.0.0.1:{app.port}", *args)


def ok(result: Result) -> str:
    assert result.code == 0, f"exit {result.code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


def service_names() -> set[str]:
    """Every service the server registers, named from the descriptors."""
    names = {
        r.module.DESCRIPTOR.services_by_name[f"{r.message}Service"].full_name for r in RESOURCES
    }
    names.add(database_pb2.DESCRIPTOR.services_by_name["DatabaseService"].full_name)
    names.add(change_pb2.DESCRIPTOR.services_by_name["ChangeService"].full_name)
    names.add(data_service_pb2.DESCRIPTOR.services_by_name["DataService"].full_name)
    names.add(health_pb2.DESCRIPTOR.services_by_name["Health"].full_name)
    names.add(reflection.SERVICE_NAME)
    return names


# --- grpcurl against the test server -------------------------------------------------


async def test_grpcurl_list_shows_every_service(grpc_app: App) -> None:
    listed = set(ok(await grpcurl(grpc_app, "list")).split())
    assert listed == service_names()


async def test_grpcurl_describe_shows_every_method_of_user_service(grpc_app: App) -> None:
    service = user_pb2.DESCRIPTOR.services_by_name["UserService"]
    described = ok(await grpcurl(grpc_app, "describe", service.full_name))
    assert f"{service.full_name} is a service" in described
    for method in service.methods:
        assert f"rpc {method.name} (" in described


async def test_grpcurl_describe_shows_a_message(grpc_app: App) -> None:
    described = ok(await grpcurl(grpc_app, "describe", "ruleiq.data.v1.User"))
    assert "ruleiq.data.v1.User is a message" in described
    for field in user_pb2.User.DESCRIPTOR.fields:
        assert f" {field.name} = {field.number}" in described


async def test_grpcurl_create_and_get_with_json_agree(grpc_app: App) -> None:
    email = f"grpcurl-{uuid.uuid4().hex[:10]}@example.com"
    created = json.loads(
        ok(
            await grpcurl(
                grpc_app,
                "ruleiq.data.v1.UserService/CreateUser",
                data={"user": {"email": email, "full_name": "Grace Hopper"}},
            )
        )
    )
    assert created["email"] == email
    assert created["full_name"] == "Grace Hopper"
    assert uuid.UUID(created["id"])
    assert created["etag"]
    assert "hashed_password" not in created
    fetched = json.loads(
        ok(
            await grpcurl(
                grpc_app, "ruleiq.data.v1.UserService/GetUser", data={"id": created["id"]}
            )
        )
    )
    assert fetched == created


@pytest.mark.parametrize("service", ["readiness", "liveness", ""])
async def test_grpcurl_health_check_answers_serving(grpc_app: App, service: str) -> None:
    reply = ok(await grpcurl(grpc_app, "grpc.health.v1.Health/Check", data={"service": service}))
    assert json.loads(reply) == {"status": "SERVING"}


async def test_grpcurl_shows_invalid_argument_with_error_details(grpc_app: App) -> None:
    result = await grpcurl(
        grpc_app, "ruleiq.data.v1.UserService/GetUser", data={"id": "not-a-uuid"}
    )
    assert result.code == 64 + grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "Code: InvalidArgument" in result.stderr
    assert '"domain":"data.ruleiq"' in result.stderr
    assert "google.rpc.BadRequest" in result.stderr
    assert '"field":"id"' in result.stderr


# --- the README's lines, as written ---------------------------------------------------


@dataclass(frozen=True)
class ReadmeLine:
    text: str
    variable: str | None
    """Set by the line (`NAME=$(...)`), for the lines after it."""
    fails_with: str | None
    """The grpcurl code name the README says the line shows (`# fails: NotFound`)."""


_ASSIGNMENT = re.compile(r"^([A-Z_]+)=\$\((.*)\)$")
_FAILS = re.compile(r"#\s*fails:\s*([A-Za-z]+)")


def readme_lines(tool: str) -> list[ReadmeLine]:
    """Every command line in README.md's shell code blocks that runs `tool`
    (`grpcurl` or `buf curl`), directly or inside `NAME=$(...)`, in order."""
    text = README.read_text()
    lines = []
    for block in re.findall(r"^```(?:sh|bash|shell)\n(.*?)^```", text, flags=re.M | re.S):
        for line in block.splitlines():
            line = line.strip()
            assignment = _ASSIGNMENT.match(line)
            command = assignment.group(2) if assignment else line
            if not command.startswith(f"{tool} "):
                continue
            fails = _FAILS.search(line)
            lines.append(
                ReadmeLine(
                    line,
                    assignment.group(1) if assignment else None,
                    fails.group(1) if fails else None,
                )
            )
    return lines


def status_code(camel: str) -> grpc.StatusCode:
    """`FailedPrecondition` (grpcurl's spelling) -> grpc.StatusCode.FAILED_PRECONDITION."""
    return grpc.StatusCode[snake(camel).upper()]


async def run_readme_lines(tool: str, app: App) -> list[tuple[ReadmeLine, Result]]:
    """Run `tool`'s README lines in order, in bash, as a reader would paste them.

    What the test changes, and nothing else: `localhost:50051` becomes the test
    server's address, and the README's e-mail a fresh one. The shell variables the
    README sets (`USER_ID=$(...)`) carry over to the lines after them, as they do
    in the reader's shell."""
    email = f"readme-{uuid.uuid4().hex[:10]}@example.com"
    variables: dict[str, str] = {}
    results = []
    for line in readme_lines(tool):
        script = line.text.replace(README_ADDRESS, f"127.0.0.1:{app.port}").replace(
            README_EMAIL, email
        )
        if line.variable:
            # The assignment fails when its pipeline does; then print what it set.
            script = f'set -eo pipefail\n{script}\nprintf %s "${line.variable}"'
        result = await run("bash", "-c", script, env=tool_env(variables))
        if line.variable and result.code == 0:
            assert result.stdout.strip(), f"{line.text}\nset {line.variable} to nothing"
            variables[line.variable] = result.stdout.strip()
        results.append((line, result))
    return results


def check_readme_result(tool: str, line: ReadmeLine, result: Result) -> None:
    where = f"README line:\n  {line.text}\nexit {result.code}\n{result.stdout}\n{result.stderr}"
    if line.fails_with is None:
        assert result.code == 0, where
        return
    code = status_code(line.fails_with).value[0]
    if tool == "grpcurl":
        assert result.code == 64 + code, where
        # A status goes to stderr, with or without -format-error: stdout stays empty.
        assert result.stdout == "", where
        if "-format-error" in line.text:
            error = json.loads(result.stderr)
            assert error["code"] == code, where
            assert {"domain": "data.ruleiq"}.items() <= error["details"][0].items(), where
        else:
            assert f"Code: {line.fails_with}" in result.stderr, where
            assert '"domain":"data.ruleiq"' in result.stderr, where
    else:
        assert result.code == code << 3, where
        error = json.loads(result.stdout or result.stderr)
        assert error["code"] == status_code(line.fails_with).name.lower(), where


def test_readme_shows_grpcurl_for_every_kind_of_method() -> None:
    lines = [line.text for line in readme_lines("grpcurl")]
    assert lines, "README.md has no grpcurl lines"
    assert all("-plaintext" in line and README_ADDRESS in line for line in lines)
    wanted = [
        r"localhost:50051 list$",
        r"localhost:50051 describe ruleiq\.data\.v1\.UserService$",
        r"localhost:50051 describe ruleiq\.data\.v1\.User$",
        r"UserService/CreateUser$",
        r"UserService/GetUser$",
        r'"page_size".*"filter".*"order_by".*UserService/ListUsers$',
        r'"update_mask".*"etag".*UserService/UpdateUser$',
        r'"force": true.*UserService/DeleteUser$',
        r"UserService/BatchGetUsers$",
        r'"service": "readiness".*grpc\.health\.v1\.Health/Check$',
        r'"service": "liveness".*grpc\.health\.v1\.Health/Check$',
        r"# fails: InvalidArgument$",
        r" -format-error .*UserService/GetUser  # fails: InvalidArgument$",
    ]
    for pattern in wanted:
        assert any(re.search(pattern, line) for line in lines), f"no README line like {pattern}"
    assert "grpc: {port: 50051, service: readiness}" in README.read_text()


def test_readme_shows_buf_curl_with_grpc_and_reflection() -> None:
    lines = [line.text for line in readme_lines("buf curl")]
    assert any(line.endswith("UserService/GetUser") for line in lines)
    assert any("grpc.health.v1.Health/Check" in line for line in lines)
    for line in lines:
        assert "--protocol grpc --http2-prior-knowledge" in line, line
        assert "http://localhost:50051" in line, line


async def test_readme_grpcurl_lines_work_as_written(grpc_app: App) -> None:
    results = await run_readme_lines("grpcurl", grpc_app)
    assert len(results) >= 10
    for line, result in results:
        check_readme_result("grpcurl", line, result)


async def test_readme_buf_curl_lines_work_as_written(grpc_app: App) -> None:
    results = await run_readme_lines("buf curl", grpc_app)
    assert len(results) >= 2
    for line, result in results:
        check_readme_result("buf curl", line, result)


# --- the README's reference tables match the code -------------------------------------


def readme_table(heading: str) -> list[list[str]]:
    """The rows of the first table under `## heading`, cells without backticks."""
    section = README.read_text().split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [
        [cell.strip().replace("`", "") for cell in row.strip("|").split("|")] for row in rows[2:]
    ]


def test_readme_filter_table_matches_the_declarations() -> None:
    table = {row[0]: row[1:] for row in readme_table("Filters, ordering and pages")}
    assert set(table) == {f"{r.message}Service" for r in RESOURCES}
    for r in RESOURCES:
        filterable, orderable, default = table[f"{r.message}Service"]
        assert filterable.split(", ") == list(r.filterable), r.message
        assert orderable.split(", ") == list(r.orderable), r.message
        assert default == r.default_order, r.message


def test_readme_configuration_table_names_every_setting() -> None:
    documented = {row[0] for row in readme_table("Configuration")}
    fields = {*ServiceSettings.model_fields, *DatabaseSettings.model_fields}
    assert documented == {name.upper() for name in fields}
    defaults = {row[0]: row[1] for row in readme_table("Configuration")}
    for cls in (ServiceSettings, DatabaseSettings):
        for name, field in cls.model_fields.items():
            if isinstance(field.default, (int, float, bool)):
                written = str(field.default).lower()
                written = written.removesuffix(".0")
                assert defaults[name.upper()] == written, name


def test_readme_development_table_lists_every_make_target() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z-]+):.*## ", makefile, flags=re.M))
    documented = {row[0].removeprefix("make ") for row in readme_table("Development")}
    assert documented == targets
