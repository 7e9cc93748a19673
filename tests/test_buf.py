"""API hygiene: `buf lint` and `buf breaking` against the committed image of the
released API (protos/api-image.binpb), run on a copy of protos/ in a tmp dir so
the edits that must fail never touch the repository."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from repositories.config import PROJECT_ROOT as ROOT

from .buf import BUF, add_buf_config, buf, lint

API_IMAGE = ROOT / "protos" / "api-image.binpb"
USER_PROTO = Path("protos/ruleiq/data/v1/user.proto")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """buf.yaml, the .proto files and the googleapis protos as `make` lays them out."""
    add_buf_config(tmp_path)
    for proto in (ROOT / "protos").rglob("*.proto"):
        target = tmp_path / proto.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(proto, target)
    return tmp_path


def breaking(workspace: Path) -> subprocess.CompletedProcess[str]:
    return buf(workspace, "breaking", "protos", "--against", str(API_IMAGE))


def edit(workspace: Path, pattern: str, replacement: str) -> re.Match[str]:
    """Apply one regex edit to user.proto; the match, to name what changed."""
    path = workspace / USER_PROTO
    source = path.read_text()
    match = re.search(pattern, source, flags=re.MULTILINE)
    assert match, f"{pattern!r} not in {USER_PROTO}: update this test"
    path.write_text(source[: match.start()] + match.expand(replacement) + source[match.end() :])
    return match


def test_buf_is_installed_and_the_released_image_is_committed() -> None:
    assert BUF.exists(), "buf-bin is a dev dependency: make install"
    assert API_IMAGE.stat().st_size > 0


def test_current_protos_pass_lint_and_breaking(workspace: Path) -> None:
    result = lint(workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    result = breaking(workspace)
    assert result.returncode == 0, result.stdout + result.stderr


def test_renaming_a_field_is_a_breaking_change(workspace: Path) -> None:
    match = edit(workspace, r"^(\s+optional string )(\w+)( = \d+)", r"\1renamed_\2\3")
    result = breaking(workspace)
    assert result.returncode != 0
    assert f'changed name from "{match.group(2)}" to "renamed_{match.group(2)}"' in result.stdout


def test_deleting_a_field_is_a_breaking_change(workspace: Path) -> None:
    edit(workspace, r"^\s+optional string \w+ = \d+[^;]*;\n", "")
    result = breaking(workspace)
    assert result.returncode != 0
    assert "deleted" in result.stdout


def test_adding_a_field_passes_breaking_and_lint(workspace: Path) -> None:
    edit(workspace, r"^message User \{\n", "message User {\n  optional string nickname = 9999;\n")
    result = breaking(workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    result = lint(workspace)
    assert result.returncode == 0, result.stdout + result.stderr


def test_lint_refuses_a_field_name_that_is_not_snake_case(workspace: Path) -> None:
    edit(workspace, r"^message User \{\n", "message User {\n  optional string nickName = 9999;\n")
    result = lint(workspace)
    assert result.returncode != 0
    assert "lower_snake_case" in result.stdout
