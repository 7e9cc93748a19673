"""The shipped client installed as another service installs it: `pip install
./protos` into a fresh virtual environment with nothing of the server."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
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


def run_cache(kind: str, *sources: Path) -> Path | None:
    """A directory for what one CI run installs twice (the suite on the embedded
    server, then again on PostgreSQL 15), named by what it is built from; None
    unless RULEIQ_TEST_CACHE names a directory (.ci/run makes one per run). What
    is in it is complete: it is renamed into place only once built."""
    cache = os.environ.get("RULEIQ_TEST_CACHE")
    if not cache:
        return None
    digest = hashlib.sha256(sys.version.encode())
    for source in sources:
        files = (
            [source] if source.is_file() else sorted(f for f in source.rglob("*") if f.is_file())
        )
        for file in files:
            if "__pycache__" in file.parts or "node_modules" in file.parts:
                continue
            digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes())
    return Path(cache) / f"{kind}-{digest.hexdigest()[:16]}"


async def _install_client(base: Path) -> ClientVenv:
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
    seeded = frozenset(await installed(venv))
    (base / "seeded.json").write_text(json.dumps(sorted(seeded)))
    venv = ClientVenv(root, venv.python, seeded)
    await ok(venv.python, "-m", "pip", "install", "--quiet", "./protos", venv=venv)
    return venv


@contextlib.asynccontextmanager
async def client_installed(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ClientVenv]:
    """A new virtual environment with `pip install ./protos` and nothing else.

    The install works on a copy of protos/, so the build leaves no build/ or
    *.egg-info in the repository; pip's cache lives in the same tmp dir. Under
    RULEIQ_TEST_CACHE the same install serves every pytest run of that CI run."""
    cached = run_cache("client", PROTOS)
    if cached is None:
        base = tmp_path_factory.mktemp("client")
        try:
            yield await _install_client(base)
        finally:
            shutil.rmtree(base, ignore_errors=True)
        return
    if not (cached / "complete").exists():
        # Built where it will live (a venv's scripts name their own path), and
        # marked complete last: what a killed run leaves is built again.
        shutil.rmtree(cached, ignore_errors=True)
        cached.mkdir(parents=True)
        await _install_client(cached)
        (cached / "complete").touch()
    root = cached / "venv"
    seeded = frozenset(json.loads((cached / "seeded.json").read_text()))
    yield ClientVenv(root, root / "bin" / "python", seeded)


async def run_script(venv: ClientVenv, code: str, *args: str | Path) -> str:
    script = venv.root.parent / f"script_{uuid.uuid4().hex[:8]}.py"
    script.write_text(code)
    return await ok(venv.python, "-I", script, *args, venv=venv)
