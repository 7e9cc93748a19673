"""The migration lint (`make migration-lint`, run by .ci/run): squawk on the SQL of
each migration, found failing on unsafe ones and passing safe ones, with an ignored
rule carried, and justified, inline."""

from __future__ import annotations

import subprocess
from pathlib import Path

from repositories.config import PROJECT_ROOT
from repositories.migration_lint import upgrade_sql

from .migration_scripts import (
    ADD_NICKNAME,
    HEAD,
    TRIAL,
    UNIQUE_FULL_NAME_INDEX,
    script_directory,
)

INDEX_WITHOUT_CONCURRENTLY = """
    def upgrade() -> None:
        op.create_index("ix_users_full_name", "users", ["full_name"])


    def downgrade() -> None:
        op.drop_index("ix_users_full_name", table_name="users")
"""
# What squawk calls adding-required-field: every insert that does not know it breaks.
REQUIRED_COLUMN = ADD_NICKNAME.replace("nullable=True", "nullable=False")
IGNORED_WITH_A_REASON = """
    from repositories.migrations import squawk_ignore


    def upgrade() -> None:
        op.create_table("audit_notes", sa.Column("id", sa.UUID(), primary_key=True))
        squawk_ignore(
            "require-concurrent-index-creation", reason="audit_notes was created just above"
        )
        op.create_index("ix_audit_notes_id", "audit_notes", ["id"])


    def downgrade() -> None:
        op.drop_table("audit_notes")
"""


def make_lint(scripts: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-s", "migration-lint", f"MIGRATION_SCRIPTS={scripts}"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_project_migrations_pass_the_lint() -> None:
    result = make_lint(PROJECT_ROOT / "alembic")
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_index_built_without_concurrently_fails_the_lint(tmp_path: Path) -> None:
    result = make_lint(script_directory(tmp_path, INDEX_WITHOUT_CONCURRENTLY))
    assert result.returncode != 0
    assert f"{TRIAL}.sql" in result.stdout
    assert "require-concurrent-index-creation" in result.stdout


def test_a_required_column_without_a_default_fails_the_lint(tmp_path: Path) -> None:
    result = make_lint(script_directory(tmp_path, REQUIRED_COLUMN))
    assert result.returncode != 0
    assert "adding-required-field" in result.stdout


def test_a_concurrent_index_build_through_the_helper_passes_the_lint(tmp_path: Path) -> None:
    scripts = script_directory(tmp_path, UNIQUE_FULL_NAME_INDEX)
    result = make_lint(scripts)
    assert result.returncode == 0, result.stdout + result.stderr
    sql = upgrade_sql(scripts, HEAD, TRIAL)
    assert "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS uq_users_full_name" in sql
    # The runner's session settings come first, as the runner sets them.
    assert sql.index("SET lock_timeout") < sql.index("CREATE UNIQUE INDEX")


def test_a_rule_ignored_with_its_reason_inline_passes_the_lint(tmp_path: Path) -> None:
    scripts = script_directory(tmp_path, IGNORED_WITH_A_REASON)
    result = make_lint(scripts)
    assert result.returncode == 0, result.stdout + result.stderr
    sql = upgrade_sql(scripts, HEAD, TRIAL)
    assert (
        "-- squawk-ignore require-concurrent-index-creation -- audit_notes was created just above"
        "\nCREATE INDEX ix_audit_notes_id" in sql
    )
