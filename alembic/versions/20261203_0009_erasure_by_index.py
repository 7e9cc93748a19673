"""erasure by index, triggers without JIT: a user's delete no longer plans a scan of
the whole history

A user's delete erases the values of every event of every resource the user owned.
Written as `resource_id IN (SELECT ... WHERE owner_user_id = $1)`, its plan followed
the estimate for the owner: for one that owned thousands of events, or before
change_events had statistics (0.5% of the table, whatever its size), it was a hash
join over a sequential scan of change_events, costed high enough for PostgreSQL's
JIT to compile it on every delete (on PostgreSQL 15 with 1,000,000 events, about 30%
of the machine's CPU went to LLVM while users were deleted: 150-190 deletes a second
instead of 1,300). The resources are now collected into an array first
(`= ANY (ARRAY(...))`), whose length the planner does not guess from statistics:
each is found through (resource_id, id).

Neither trigger ever gains from JIT (one row, or one statement's rows), so both run
with `jit = off`, whatever the session's setting.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

from alembic import op
from repositories.migrations import revision_module

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HEADER = "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$"
BY_OWNER = """resource_id IN (
            SELECT o.resource_id FROM change_events AS o WHERE o.owner_user_id = resource
        );"""
BY_INDEX = """resource_id = ANY (ARRAY(
            SELECT DISTINCT o.resource_id FROM change_events AS o
            WHERE o.owner_user_id = resource
        ));"""


def _record_change() -> str:
    previous: str = revision_module("0008").RECORD_CHANGE
    for old in (HEADER, BY_OWNER):
        if previous.count(old) != 1:
            raise RuntimeError(f"record_change() of revision 0008 has changed: {old!r}")
    return previous.replace(HEADER, HEADER.replace(" AS $$", " SET jit = off AS $$")).replace(
        BY_OWNER, BY_INDEX
    )


def upgrade() -> None:
    op.execute(_record_change())
    op.execute("ALTER FUNCTION record_creates() SET jit = off")


def downgrade() -> None:
    op.execute("ALTER FUNCTION record_creates() RESET jit")
    # CREATE OR REPLACE sets the function's settings to those it names: jit goes.
    op.execute(revision_module("0008").RECORD_CHANGE)
