"""One instance per GRPC_PORT: a second `python -m service serve` on a taken port
exits at once with one clear line, whatever holds the port, and whoever held it
keeps every caller."""

from __future__ import annotations

import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from ruleiq.data.v1 import database_pb2, database_pb2_grpc

from repositories.config import ConfigError
from repositories.database import Database

from .apps import running
from .ports import free_port
from .service_process import CHANNELS, OWN_CONNECTION, ServiceProcess, run_command

# Long enough for a slow start on a busy machine; a second instance that starts
# serving instead of exiting is still running when it ends.
EXIT_WITHIN_SECONDS = 60.0


def second_instance(env: dict[str, str], workers: int) -> subprocess.CompletedProcess[str]:
    """`python -m service serve` with `env`; how it ended, or a failure if it is
    still running (it started beside the port's owner)."""
    env = {**env, "GRPC_WORKERS": str(workers), "DB_APPLICATION_NAME": "second"}
    try:
        return run_command("serve", env=env, timeout=EXIT_WITHIN_SECONDS)
    except subprocess.TimeoutExpired as running:
        stderr = running.stderr.decode(errors="replace") if running.stderr else ""
        pytest.fail(f"the second instance is still running beside the first:\n{stderr}")


@pytest.fixture
def first(
    database: Database, database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[ServiceProcess]:
    """The port's owner: a server with `request.param` workers, ready."""
    workers: int = request.param
    service = ServiceProcess(
        database_url,
        tmp_path / "first.log",
        {
            "GRPC_WORKERS": str(workers),
            "DB_APPLICATION_NAME": f"first_{uuid.uuid4().hex[:8]}",
            "DB_POOL_SIZE": "2",
            "DB_MAX_OVERFLOW": "2",
            "MIGRATE_ON_START": "false",
        },
    )
    try:
        service.wait_ready()
        while service.output(last=100_000).count("serving on port") < workers:
            assert service.process.poll() is None, service.output()
            service.wait_ready()
        yield service
    finally:
        service.stop()


async def calls_reach_only(service: ServiceProcess) -> set[str]:
    """Which application_names answer calls made each on a connection of its own."""
    names = set()
    for _ in range(CHANNELS):
        async with grpc.aio.insecure_channel(service.address, options=OWN_CONNECTION) as channel:
            info = await database_pb2_grpc.DatabaseServiceStub(channel).GetDatabaseInfo(
                database_pb2.GetDatabaseInfoRequest(), timeout=10
            )
            names.add(info.application_name)
    return names


@pytest.mark.parametrize(
    ("first", "second_workers"),
    [(1, 1), (1, 2), (2, 1), (2, 2)],
    indirect=["first"],
    ids=[
        "single-then-single",
        "single-then-workers",
        "workers-then-single",
        "workers-then-workers",
    ],
)
async def test_a_second_instance_on_the_same_port_exits_with_one_line_and_the_first_keeps_serving(
    first: ServiceProcess, second_workers: int
) -> None:
    second = second_instance(first.env, second_workers)
    assert second.returncode == 1, second.stderr
    assert second.stderr.splitlines() == [
        f"ruleiq-data: GRPC_PORT {first.port} is already in use by another ruleiq-data instance"
    ]
    application_name = first.env["DB_APPLICATION_NAME"]
    assert {name.split("-w")[0] for name in await calls_reach_only(first)} == {application_name}
    assert first.process.poll() is None


@pytest.mark.parametrize("workers", [1, 2])
def test_a_port_another_program_listens_on_is_refused_with_one_line(
    database: Database, database_url: str, workers: int
) -> None:
    port = free_port()
    with socket.create_server(("127.0.0.1", port)) as foreign:
        env = {
            **ServiceProcess.environment(database_url, port),
            "MIGRATE_ON_START": "false",
            "DB_APPLICATION_NAME": "second",
        }
        second = second_instance(env, workers)
        assert second.returncode == 1, second.stderr
        assert second.stderr.splitlines() == [
            f"ruleiq-data: GRPC_PORT {port} is already in use on 127.0.0.1: "
            "stop what listens there or choose another GRPC_PORT"
        ]
        # The program that held the port still has it, and gets its callers.
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            accepted, _ = foreign.accept()
            accepted.close()


@pytest.mark.parametrize("reuse_port", [False, True], ids=["plain", "so_reuseport"])
async def test_a_single_server_never_shares_its_port_even_with_a_so_reuseport_listener(
    database: Database, database_url: str, reuse_port: bool
) -> None:
    # The bind itself, past the start-up check: what a second server racing the
    # first one meets.
    port = free_port()
    refused = pytest.raises(ConfigError, match=f"GRPC_PORT {port}: cannot listen on 127.0.0.1")
    with socket.create_server(("127.0.0.1", port), reuse_port=reuse_port), refused:
        async with running(database_url, grpc_port=port):
            pass
