"""The service as an outside caller and an on-call engineer see it: the real grpcurl
and `buf curl` binaries against the running server, and the docs' own lines (README.md
and every page under docs/) run as written."""

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
DOCS = ROOT / "docs"
# Every page a reader may paste commands from, the front page first.
DOC_PAGES = (README, *sorted(DOCS.rglob("*.md")))
# grpcurl and buf come with the dev dependencies, next to this interpreter.
TOOLS = Path(sys.executable).parent
DOC_ADDRESS = "localhost:50051"
# The docs' example e-mail; replaced by a fresh one per page, because the test
# database is shared by the whole run and protos/README.md uses the same address.
DOC_EMAIL = "ada@example.com"
TIMEOUT = 30.0


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


def tool_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the docs ask for: .venv/bin first on PATH."""
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


# --- the docs' lines, as written -----------------------------------------------------


@dataclass(frozen=True)
class DocLine:
    page: Path
    text: str
    variable: str | None
    """Set by the line (`NAME=$(...)`), for the lines after it on its page."""
    fails_with: str | None
    """The grpcurl code name the page says the line shows (`# fails: NotFound`)."""


_ASSIGNMENT = re.compile(r"^([A-Z_]+)=\$\((.*)\)$")
_FAILS = re.compile(r"#\s*fails:\s*([A-Za-z]+)")
_HEREDOC = re.compile(r"<<'?([A-Z]+)'?\s*(#.*)?$")
# The one other kind of line a page may run: minting an id for the lines after it.
_MINT = "python3 -c 'import uuid; print(uuid.uuid4())'"


def doc_lines(tool: str, page: Path) -> list[DocLine]:
    """Every command in `page`'s shell code blocks that runs `tool` (`grpcurl` or
    `buf curl`), directly or inside `NAME=$(...)`, in order, and the lines that mint
    an id (`NAME=$(python3 -c 'import uuid; print(uuid.uuid4())')`) for them; a
    command continued with a trailing backslash is one line, and one that reads a
    here-document (`-d @ <<EOF`) carries its body. (A `console` block shows a
    command with placeholders to fill in, and is not run.)"""
    text = page.read_text()
    lines = []
    for block in re.findall(r"^```(?:sh|bash|shell)\n(.*?)^```", text, flags=re.M | re.S):
        block_lines = iter(re.sub(r"\\\n\s*", " ", block).splitlines())
        for raw in block_lines:
            line = raw.strip()
            assignment = _ASSIGNMENT.match(line)
            command = assignment.group(2) if assignment else line
            if not command.startswith(f"{tool} ") and command != _MINT:
                continue
            heredoc = _HEREDOC.search(line)
            if heredoc:
                body = []
                for next_line in block_lines:
                    body.append(next_line)
                    if next_line.strip() == heredoc.group(1):
                        break
                line = "\n".join([line, *body])
            fails = _FAILS.search(line)
            lines.append(
                DocLine(
                    page,
                    line,
                    assignment.group(1) if assignment else None,
                    fails.group(1) if fails else None,
                )
            )
    return lines


def all_doc_lines(tool: str) -> list[DocLine]:
    """`doc_lines` of every page, page by page."""
    return [line for page in DOC_PAGES for line in doc_lines(tool, page)]


def status_code(camel: str) -> grpc.StatusCode:
    """`FailedPrecondition` (grpcurl's spelling) -> grpc.StatusCode.FAILED_PRECONDITION."""
    return grpc.StatusCode[snake(camel).upper()]


async def run_page_lines(tool: str, page: Path, app: App) -> list[tuple[DocLine, Result]]:
    """Run `tool`'s lines of one page in order, in bash, as a reader would paste them.

    What the test changes, and nothing else: `localhost:50051` becomes the test
    server's address, and the page's e-mail a fresh one. The shell variables the
    page sets (`USER_ID=$(...)`) carry over to the lines after them, as they do
    in the reader's shell; each page starts from a fresh shell."""
    email = f"docs-{uuid.uuid4().hex[:10]}@example.com"
    variables: dict[str, str] = {}
    results = []
    for line in doc_lines(tool, page):
        script = line.text.replace(DOC_ADDRESS, f"127.0.0.1:{app.port}").replace(DOC_EMAIL, email)
        if line.variable:
            # The assignment fails when its pipeline does; then print what it set.
            script = f'set -eo pipefail\n{script}\nprintf %s "${line.variable}"'
        result = await run("bash", "-c", script, env=tool_env(variables))
        if line.variable and result.code == 0:
            assert result.stdout.strip(), f"{line.text}\nset {line.variable} to nothing"
            variables[line.variable] = result.stdout.strip()
        results.append((line, result))
    return results


async def run_doc_lines(tool: str, app: App) -> list[tuple[DocLine, Result]]:
    """`run_page_lines` for every page, page by page."""
    results = []
    for page in DOC_PAGES:
        results += await run_page_lines(tool, page, app)
    return results


def check_doc_result(tool: str, line: DocLine, result: Result) -> None:
    where = (
        f"{line.page.relative_to(ROOT)} line:\n  {line.text}\n"
        f"exit {result.code}\n{result.stdout}\n{result.stderr}"
    )
    if line.fails_with is None:
        assert result.code == 0, where
        return
    code = status_code(line.fails_with).value[0]
    if tool == "grpcurl" and line.fails_with == "DeadlineExceeded":
        # A stream that does not end by itself, ended by the caller's own deadline
        # (-max-time): the status is grpcurl's, without ErrorInfo, after what the
        # stream sent (a WatchChanges stream's first response comes at once).
        assert result.code == 64 + code, where
        assert "Code: DeadlineExceeded" in result.stderr, where
        assert '"resume_token"' in result.stdout, where
        return
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


def test_docs_show_grpcurl_for_every_kind_of_method() -> None:
    lines = [line.text for line in all_doc_lines("grpcurl") if _MINT not in line.text]
    assert all("-plaintext" in line and DOC_ADDRESS in line for line in lines)
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
        r"DataService/Commit <<EOF\n",
        r"DataService/Commit <<EOF  # fails: InvalidArgument\n",
    ]
    for pattern in wanted:
        assert any(re.search(pattern, line) for line in lines), f"no doc line like {pattern}"
    assert "grpc: {port: 50051, service: readiness}" in (DOCS / "operations.md").read_text()


def test_readme_shows_first_calls_with_grpcurl() -> None:
    lines = [line.text for line in doc_lines("grpcurl", README)]
    for pattern in (r" list$", r"Health/Check$", r"UserService/CreateUser$", r"/GetUser$"):
        assert any(re.search(pattern, line) for line in lines), f"no README line like {pattern}"


def test_docs_show_buf_curl_with_grpc_and_reflection() -> None:
    lines = [line.text for line in all_doc_lines("buf curl") if _MINT not in line.text]
    assert any(line.endswith("UserService/GetUser") for line in lines)
    assert any("grpc.health.v1.Health/Check" in line for line in lines)
    for line in lines:
        assert "--protocol grpc --http2-prior-knowledge" in line, line
        assert "http://localhost:50051" in line, line


async def test_doc_grpcurl_lines_work_as_written(grpc_app: App) -> None:
    results = await run_doc_lines("grpcurl", grpc_app)
    assert len(results) >= 10
    assert {line.page for line, _ in results} >= {README, DOCS / "api.md"}
    for line, result in results:
        check_doc_result("grpcurl", line, result)


async def test_doc_buf_curl_lines_work_as_written(grpc_app: App) -> None:
    results = await run_doc_lines("buf curl", grpc_app)
    assert len(results) >= 2
    for line, result in results:
        check_doc_result("buf curl", line, result)


# --- the docs' reference tables match the code ----------------------------------------


def doc_table(page: Path, heading: str) -> list[list[str]]:
    """The rows of the first table under the heading `heading` (any level) of `page`,
    cells without backticks."""
    match = re.search(rf"^#+ {re.escape(heading)}\n(.*?)(?=^#+ |\Z)", page.read_text(), re.M | re.S)
    assert match, f"{page.relative_to(ROOT)} has no heading {heading!r}"
    rows = []
    for line in match.group(1).splitlines():
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            break
    return [
        [cell.strip().replace("`", "") for cell in row.strip("|").split("|")] for row in rows[2:]
    ]


def test_filter_table_matches_the_declarations() -> None:
    rows = doc_table(DOCS / "list-language.md", "Filters and ordering")
    table = {row[0]: row[1:] for row in rows}
    assert set(table) == {f"{r.message}Service" for r in RESOURCES}
    for r in RESOURCES:
        filterable, orderable, default = table[f"{r.message}Service"]
        assert filterable.split(", ") == list(r.filterable), r.message
        assert orderable.split(", ") == list(r.orderable), r.message
        assert default == r.default_order, r.message


def test_configuration_table_names_every_setting() -> None:
    rows = doc_table(DOCS / "configuration.md", "Configuration")
    documented = {row[0] for row in rows}
    fields = {*ServiceSettings.model_fields, *DatabaseSettings.model_fields}
    assert documented == {name.upper() for name in fields}
    defaults = {row[0]: row[1] for row in rows}
    for cls in (ServiceSettings, DatabaseSettings):
        for name, field in cls.model_fields.items():
            if isinstance(field.default, (int, float, bool)):
                written = str(field.default).lower()
                written = written.removesuffix(".0")
                assert defaults[name.upper()] == written, name


def test_development_table_lists_every_make_target() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z-]+):.*## ", makefile, flags=re.M))
    rows = doc_table(DOCS / "development.md", "Make targets")
    documented = {row[0].removeprefix("make ") for row in rows}
    assert documented == targets
