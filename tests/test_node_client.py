"""examples/node, installed with `npm ci` from its committed lock, run with node against
the real server: health, create, get, pages, a stale etag decoded from
grpc-status-details-bin, and what protobufjs does with enum names and Struct keys
(docs/clients.md documents what this test sees)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import google.api
import pytest

from repositories.config import PROJECT_ROOT as ROOT
from service.server import App

from .client_venv import run, run_cache

EXAMPLE = ROOT / "examples" / "node"
GOOGLEAPIS = Path(google.api.__path__[0]).parent.parent  # google/api, google/rpc, google/type


@pytest.fixture(scope="module")
async def node_example(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Path]:
    """A copy of examples/node with its dependencies installed from package-lock.json
    (under RULEIQ_TEST_CACHE, once for every pytest run of a CI run)."""
    cached = run_cache("node", EXAMPLE)
    if cached is not None and (cached / "complete").exists():
        yield cached / "example"
        return
    base = cached or tmp_path_factory.mktemp("node")
    shutil.rmtree(base / "example", ignore_errors=True)
    work = base / "example"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("node_modules"))
    env = {**os.environ, "npm_config_update_notifier": "false"}
    code, stdout, stderr = await run(
        "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", env=env, cwd=work
    )
    assert code == 0, f"npm ci failed\n{stdout}\n{stderr}"
    if cached is not None:
        (cached / "complete").touch()
    yield work
    if cached is None:
        shutil.rmtree(work, ignore_errors=True)


async def steps(node_example: Path, grpc_app: App) -> list[dict[str, Any]]:
    env = {
        **os.environ,
        "RULEIQ_TARGET": f"127.0.0.1:{grpc_app.port}",
        "PROTOS": str(ROOT / "protos"),
        "GOOGLEAPIS": str(GOOGLEAPIS),
    }
    code, stdout, stderr = await run("node", "example.js", env=env, cwd=node_example)
    assert code == 0, f"node example.js: exit {code}\n{stdout}\n{stderr}"
    return [json.loads(line) for line in stdout.splitlines()]


async def test_the_node_example_runs_against_the_server(node_example: Path, grpc_app: App) -> None:
    seen = await steps(node_example, grpc_app)
    by_step: dict[str, list[dict[str, Any]]] = {}
    for step in seen:
        by_step.setdefault(step["step"], []).append(step)

    assert [(h["service"], h["status"]) for h in by_step["health"]] == [
        ("", "SERVING"),
        ("readiness", "SERVING"),
    ]
    (got,) = by_step["get"]
    assert got["email"].endswith("1@example.com")
    assert set(got["created_at"]) == {"seconds", "nanos"}  # a Timestamp is a message in JS
    ((pages),) = [s["pages"] for s in by_step["list"]]
    assert [len(p) for p in pages] == [2, 1]
    emails = [email for page in pages for email in page]
    assert emails == sorted(emails)
    assert len(set(emails)) == 3

    (stale,) = by_step["stale etag"]
    assert stale["refused"]
    assert stale["code"] == "ABORTED"
    status = stale["status"]
    assert status["code"] == 10
    assert status["request_id"]
    (info,) = [d for d in status["details"] if d["type"] == "google.rpc.ErrorInfo"]
    assert (info["reason"], info["domain"]) == ("ETAG_MISMATCH", "data.ruleiq")


async def test_protobufjs_drops_short_enum_names_and_snake_case_value_keys(
    node_example: Path, grpc_app: App
) -> None:
    """What docs/clients.md warns about, as it really happens: a short enum name
    fails nowhere; a snake_case Value key reaches the server as a Value with no kind,
    which it refuses naming the path."""
    seen = await steps(node_example, grpc_app)
    enums = {str(s["sent"]): s for s in seen if s["step"] == "enum"}
    full, number, short = (
        enums["ASSESSMENT_SESSION_STATUS_COMPLETED"],
        enums["2"],
        enums["COMPLETED"],
    )
    for kept in (full, number):
        assert kept["encoded"] == kept["stored"] == "ASSESSMENT_SESSION_STATUS_COMPLETED"
    assert short["encoded"] is None  # left out before it is sent
    assert short["stored"] == "ASSESSMENT_SESSION_STATUS_IN_PROGRESS"  # the column default
    for made in enums.values():
        assert made["responses"]["fields"]["q1"]["stringValue"] == "yes"
        assert made["recommendations"]["values"][1]["numberValue"] == 3
        assert made["completed_at"]["seconds"] == "1780000000"
    (snake,) = [s for s in seen if s["step"] == "snake_case value"]
    assert snake["refused"]
    assert snake["code"] == "INVALID_ARGUMENT"
    assert "assessment_session.responses.q2" in snake["status"]["message"]
