"""erasure keeps other users' events: a user's delete erases the events of the
resources it owned, by type and id, and only the events that name it (or no one)

Ids are the callers' to choose, so rows of other types, or other users' rows, may
carry an id the erased user's rows once had. The erasure matched events on the
resource's id alone: another user's profile created with the erased user's id,
or a framework with it, lost its recorded values. It now matches the resources by
(type, id), and leaves the events that name another owner (a row moved to
another user in SQL, say) as they are.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

from alembic import op
from repositories.migrations import revision_module

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BY_ID = """WHERE erased_at IS NULL AND resource_id = ANY (ARRAY(
            SELECT DISTINCT o.resource_id FROM change_events AS o
            WHERE o.owner_user_id = resource
        ));"""
# The array still finds the events through (resource_id, id); the pairs then keep
# only the erased user's resources.
BY_TYPE_AND_OWNER = """WHERE erased_at IS NULL AND resource_id = ANY (ARRAY(
            SELECT DISTINCT o.resource_id FROM change_events AS o
            WHERE o.owner_user_id = resource
        ))
        AND (resource_type, resource_id) IN (
            SELECT o.resource_type, o.resource_id FROM change_events AS o
            WHERE o.owner_user_id = resource
        )
        AND (owner_user_id = resource OR owner_user_id IS NULL);"""


def _record_change() -> str:
    previous: str = revision_module("0009")._record_change()
    if previous.count(BY_ID) != 1:
        raise RuntimeError("record_change() of revision 0009 has changed")
    return previous.replace(BY_ID, BY_TYPE_AND_OWNER)


def upgrade() -> None:
    op.execute(_record_change())


def downgrade() -> None:
    op.execute(revision_module("0009")._record_change())
