"""Alembic script directories for migration tests: the real head, and the real
revisions with one more on top."""

from __future__ import annotations

import textwrap
from pathlib import Path

from alembic.script import ScriptDirectory

from repositories.config import PROJECT_ROOT
from repositories.migrations import alembic_config

SCRIPTS = ScriptDirectory.from_config(alembic_config())
HEAD = SCRIPTS.get_current_head()


# Adding a column takes an ACCESS EXCLUSIVE lock on users, however briefly.
ADD_NICKNAME = """
    def upgrade() -> None:
        op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))


    def downgrade() -> None:
        op.drop_column("users", "nickname")
"""


UNIQUE_FULL_NAME_INDEX = """
    from repositories.migrations import create_index_concurrently, drop_index_concurrently


    def upgrade() -> None:
        create_index_concurrently("uq_users_full_name", "users", ["full_name"], unique=True)


    def downgrade() -> None:
        drop_index_concurrently("uq_users_full_name", "users")
"""


# A trial migration's revision: after the real head, whatever its number.
TRIAL = "9999"


def script_directory(directory: Path, body: str, revision: str = TRIAL) -> Path:
    """An Alembic script directory: the real env.py and revisions, then `body` as
    `revision`, on top of the real head."""
    (directory / "versions").mkdir(parents=True)
    (directory / "env.py").symlink_to(PROJECT_ROOT / "alembic" / "env.py")
    for real in (PROJECT_ROOT / "alembic" / "versions").glob("*.py"):
        (directory / "versions" / real.name).symlink_to(real)
    header = f"""
        import sqlalchemy as sa

        from alembic import op

        revision = {revision!r}
        down_revision = {HEAD!r}
        branch_labels = None
        depends_on = None
    """
    source = textwrap.dedent(header) + textwrap.dedent(body)
    (directory / "versions" / f"{revision}_test.py").write_text(source)
    return directory
