"""The shipped client installed as another service installs it: `pip install
./protos` into a fresh virtual environment with nothing of the server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from repositories.config import PROJECT_ROOT as ROOT

PROTOS = ROOT / "protos"
TIMEOUT = 180.0


@dataclass(frozen=True)
class ClientVenv:
    root: Path
    python: Path
    seeded: frozenset[str]
    """What `python -m venv` put there before the install (pip, setuptools)."""

    def env(self) -> dict[str, str]:
        # Nothing of this project's environment leaks in: no PYTHONPATH, and the
        # interpreter runs isolated (-I) wherever it matters.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(
            VIRTUAL_ENV=str(self.root),
            PATH=f"{self.python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            PIP_CACHE_DIR=str(self.root.parent / "pip-cache"),
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            TMPDIR=str(self.root.parent),
        )
        return env


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


async def run(*args: str | Path, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run a command without blocking the event loop the test server answers on."""
    process = await asyncio.create_subprocess_exec(
        *map(str, args),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=cwd,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"timed out after {TIMEOUT}s: {args}") from None
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def ok(*args: str | Path, venv: ClientVenv) -> str:
    code, stdout, stderr = await run(*args, env=venv.env(), cwd=venv.root.parent)
    assert code == 0, f"{args}: exit {code}\n{stdout}\n{stderr}"
    return stdout


async def installed(venv: ClientVenv) -> set[str]:
    listing = await ok(venv.python, "-m", "pip", "list", "--format=json", venv=venv)
    return {normalize(p["name"]) for p in json.loads(listing)}


@contextlib.asynccontextmanager
async def client_installed(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ClientVenv]:
    """A new virtual environment with `pip install ./protos` and nothing else.

    The install works on a copy of protos/, so the build leaves no build/ or
    *.egg-info in the repository; pip's cache lives in the same tmp dir."""
    base = tmp_path_factory.mktemp("client")
    source = base / "protos"
    shutil.copytree(
        PROTOS, source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info")
    )
    root = base / "venv"
    code, stdout, stderr = await run(
        sys.executable, "-m", "venv", root, env=dict(os.environ), cwd=base
    )
    assert code == 0, f"python -m venv failed\n{stdout}\n{stderr}"
    venv = ClientVenv(root, root / "bin" / "python", frozenset())
    venv = ClientVenv(root, venv.python, frozenset(await installed(venv)))
    await ok(venv.python, "-m", "pip", "install", "--quiet", "./protos", venv=venv)
    try:
        yield venv
    finally:
        shutil.rmtree(base, ignore_errors=True)


async def run_script(venv: ClientVenv, code: str, *args: str | Path) -> str:
    script = venv.root.parent / f"script_{uuid.uuid4().hex[:8]}.py"
    script.write_text(code)
    return await ok(venv.python, "-I", script, *args, venv=venv)
