"""expect_rows(): a statement that writes several rows fails, whole, when one of its
UPDATEs matched no row

Several writes of one commit may run as one statement, outside any transaction
block: an UPDATE that matches no row (no such row, or a stale etag) is no error in
SQL, and the statement would commit the other writes. The statement checks the
count of the rows it wrote with this function, which raises when it is not the
count expected (SQLSTATE P0002, no_data_found), so that nothing is written.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 03:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION expect_rows(expected bigint, written bigint) RETURNS boolean
        LANGUAGE plpgsql
        SET search_path = pg_catalog
        AS $$
        BEGIN
            IF written IS DISTINCT FROM expected THEN
                RAISE EXCEPTION 'the statement wrote % rows, not %', written, expected
                    USING ERRCODE = 'no_data_found';
            END IF;
            RETURN true;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION expect_rows(bigint, bigint)")
