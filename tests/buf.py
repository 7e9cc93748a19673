"""buf as `make buf-lint` runs it, on a workspace laid out as the repository is."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import google.api

from repositories.config import PROJECT_ROOT as ROOT

BUF = Path(sys.executable).with_name("buf")


def add_buf_config(workspace: Path) -> None:
    """buf.yaml and the googleapis protos, laid out in `workspace` as `make` does."""
    shutil.copy2(ROOT / "buf.yaml", workspace / "buf.yaml")
    installed = Path(google.api.__path__[0]).parent
    for package in ("api", "type", "rpc"):
        target = workspace / "build" / "googleapis" / "google" / package
        target.mkdir(parents=True, exist_ok=True)
        for proto in (installed / package).glob("*.proto"):
            shutil.copy2(proto, target)


def buf(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BUF), *args],
        cwd=workspace,
        env={"BUF_CACHE_DIR": str(workspace / ".buf-cache"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def lint(workspace: Path) -> subprocess.CompletedProcess[str]:
    return buf(workspace, "lint", "protos")
