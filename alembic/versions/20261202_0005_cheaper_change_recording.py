"""cheaper change recording: `record_change()` runs only the statements a row needs

The trigger's cost went mostly to what PL/pgSQL does for each statement it runs and,
a single-row write being a transaction of its own, to setting each expression and
query up again in every transaction; not to the event's row. The first version ran
a separate query for the changed fields, a dynamic `EXECUTE format(...)` for a child
row's owner (planned again on every call), and a revision lookup that also filtered
on the resource type, which let the planner read and sort the resource's whole
history (a bitmap scan) on every write. Now:

- the event is one `INSERT ... SELECT` that computes the changed fields and reads
  the caller's settings itself;
- a child row's owner is a static query per parent table, planned once per session;
- the revision is the newest entry of `(resource_id, id)` (one index entry), the
  type checked afterwards; only a row of another type with the same id costs the
  typed lookup.

What an event records is unchanged, and so are the triggers and their arguments.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 02:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables whose id a resource's owner column may hold instead of the user's (the
# triggers' third argument). Each gets a static owner lookup, planned once per
# session; a parent table missing here still works, through dynamic SQL.
PARENTS = ("assessment_sessions", "integrations", "chat_conversations")

# The migration's own table names, never a value.
_LOOKUP = """
        {keyword} TG_ARGV[2] = 'TABLE' THEN
            SELECT p.user_id INTO owner FROM TABLE AS p WHERE p.id = parent;"""
_LOOKUPS = "".join(
    _LOOKUP.replace("TABLE", table).replace("{keyword}", "ELSIF" if i else "IF")
    for i, table in enumerate(PARENTS)
)

RECORD_CHANGE = r"""
CREATE OR REPLACE FUNCTION record_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    -- TG_ARGV: resource type, owner column, owner column's table, secrets...
    old_row jsonb;
    new_row jsonb;
    resource uuid;
    owner uuid;
    parent uuid;
    newest_type text;
    last_revision bigint;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_row := to_jsonb(OLD);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_row := to_jsonb(NEW);
    END IF;
    resource := (coalesce(new_row, old_row) ->> 'id')::uuid;
    IF TG_ARGV[2] <> '' THEN
        parent := (coalesce(new_row, old_row) ->> TG_ARGV[1])::uuid;LOOKUPS
        ELSE
            EXECUTE format('SELECT user_id FROM %I WHERE id = $1', TG_ARGV[2])
                INTO owner USING parent;
        END IF;
        IF owner IS NULL THEN
            -- The parent went first (a cascade): its history still names the owner.
            SELECT e.owner_user_id INTO owner FROM change_events AS e
            WHERE e.resource_id = parent ORDER BY e.id DESC LIMIT 1;
        END IF;
    ELSIF TG_ARGV[1] <> '' THEN
        owner := (coalesce(new_row, old_row) ->> TG_ARGV[1])::uuid;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        -- The resource's newest event, from the end of (resource_id, id): one index
        -- entry, however long its history. Filtering on the type as well made the
        -- planner read and sort all of it.
        SELECT e.resource_type, e.revision INTO newest_type, last_revision
        FROM change_events AS e WHERE e.resource_id = resource ORDER BY e.id DESC LIMIT 1;
        IF newest_type <> TG_ARGV[0] THEN
            -- A row of another type has the same id: this type's newest event.
            SELECT e.revision INTO last_revision FROM change_events AS e
            WHERE e.resource_id = resource AND e.resource_type = TG_ARGV[0]
            ORDER BY e.id DESC LIMIT 1;
        END IF;
    END IF;
    IF TG_OP = 'DELETE' AND TG_ARGV[1] = 'id' THEN
        -- Erasure: the person is gone, so are the personal values of everything
        -- they owned; who, when, what kind of change and which fields stay.
        -- Every event of every resource the user owned (its own included), found
        -- through the two indexes: also a resource's events that name no owner.
        UPDATE change_events SET before = NULL, after = NULL, erased_at = clock_timestamp()
        WHERE erased_at IS NULL AND resource_id IN (
            SELECT o.resource_id FROM change_events AS o WHERE o.owner_user_id = resource
        );
    END IF;
    -- One statement: the changed fields are computed in it, and an update that
    -- changes nothing (SET x = x) inserts nothing.
    INSERT INTO change_events (
        resource_type, resource_id, owner_user_id, operation, revision, changed_fields,
        before, after, actor, source, database_role, on_behalf_of, request_id, trace_id,
        commit_id, transaction_id, erased_at
    )
    SELECT
        TG_ARGV[0], resource, owner,
        CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END,
        coalesce(last_revision, 0) + 1, s.fields,
        CASE WHEN TG_OP <> 'DELETE' OR TG_ARGV[1] <> 'id' THEN old_row - s.secrets END,
        new_row - s.secrets,
        coalesce(s.actor, session_user),
        CASE WHEN s.actor IS NULL THEN 'database' ELSE 'service' END,
        session_user,
        nullif(current_setting('ruleiq.on_behalf_of', true), ''),
        nullif(current_setting('ruleiq.request_id', true), ''),
        nullif(current_setting('ruleiq.trace_id', true), ''),
        nullif(current_setting('ruleiq.commit_id', true), ''),
        pg_current_xact_id()::text::bigint,
        CASE WHEN TG_OP = 'DELETE' AND TG_ARGV[1] = 'id' THEN clock_timestamp() END
    FROM (
        SELECT coalesce(TG_ARGV[3:TG_NARGS - 1], '{}') AS secrets,
            nullif(current_setting('ruleiq.actor', true), '') AS actor,
            -- Every field for a create or a delete; for an update, those it changed.
            ARRAY(
                SELECT n.key FROM jsonb_each(coalesce(new_row, old_row)) AS n
                WHERE TG_OP <> 'UPDATE' OR n.value IS DISTINCT FROM old_row -> n.key
                ORDER BY 1
            ) AS fields
    ) AS s
    WHERE cardinality(s.fields) > 0;
    RETURN NULL;
END
$$
""".replace("LOOKUPS", _LOOKUPS)


# The function as revision 0002 made it, for the downgrade.
PREVIOUS = r"""
CREATE OR REPLACE FUNCTION record_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    -- TG_ARGV: resource type, owner column, owner column's table, secrets...
    secrets text[] := coalesce(TG_ARGV[3:TG_NARGS - 1], '{}');
    actor text := nullif(current_setting('ruleiq.actor', true), '');
    old_row jsonb;
    new_row jsonb;
    row_data jsonb;
    operation text;
    fields text[];
    resource uuid;
    owner uuid;
    parent uuid;
    next_revision bigint := 1;
BEGIN
    IF TG_OP = 'INSERT' THEN
        operation := 'create';
        new_row := to_jsonb(NEW);
        row_data := new_row;
        fields := ARRAY(SELECT jsonb_object_keys(new_row) ORDER BY 1);
    ELSIF TG_OP = 'UPDATE' THEN
        operation := 'update';
        old_row := to_jsonb(OLD);
        new_row := to_jsonb(NEW);
        row_data := new_row;
        fields := ARRAY(
            SELECT n.key FROM jsonb_each(new_row) AS n
            WHERE n.value IS DISTINCT FROM old_row -> n.key ORDER BY 1
        );
        IF cardinality(fields) = 0 THEN
            RETURN NULL;  -- nothing changed: nothing to tell
        END IF;
    ELSE
        operation := 'delete';
        old_row := to_jsonb(OLD);
        row_data := old_row;
        fields := ARRAY(SELECT jsonb_object_keys(old_row) ORDER BY 1);
    END IF;
    resource := (row_data ->> 'id')::uuid;
    IF TG_ARGV[1] <> '' THEN
        IF TG_ARGV[2] = '' THEN
            owner := (row_data ->> TG_ARGV[1])::uuid;
        ELSE
            parent := (row_data ->> TG_ARGV[1])::uuid;
            EXECUTE format('SELECT user_id FROM %I WHERE id = $1', TG_ARGV[2])
                INTO owner USING parent;
            IF owner IS NULL THEN
                -- The parent went first (a cascade): its history still names the owner.
                SELECT e.owner_user_id INTO owner FROM change_events AS e
                WHERE e.resource_id = parent ORDER BY e.id DESC LIMIT 1;
            END IF;
        END IF;
    END IF;
    IF operation <> 'create' THEN
        SELECT e.revision + 1 INTO next_revision FROM change_events AS e
        WHERE e.resource_id = resource AND e.resource_type = TG_ARGV[0]
        ORDER BY e.id DESC LIMIT 1;
        next_revision := coalesce(next_revision, 1);
    END IF;
    IF operation = 'delete' AND TG_ARGV[1] = 'id' THEN
        -- Erasure: the person is gone, so are the personal values of everything
        -- they owned; who, when, what kind of change and which fields stay.
        -- Every event of every resource the user owned (its own included), found
        -- through the two indexes: also a resource's events that name no owner.
        UPDATE change_events SET before = NULL, after = NULL, erased_at = clock_timestamp()
        WHERE erased_at IS NULL AND resource_id IN (
            SELECT o.resource_id FROM change_events AS o WHERE o.owner_user_id = resource
        );
        old_row := NULL;
    END IF;
    INSERT INTO change_events (
        resource_type, resource_id, owner_user_id, operation, revision, changed_fields,
        before, after, actor, source, database_role, on_behalf_of, request_id, trace_id,
        commit_id, transaction_id, erased_at
    ) VALUES (
        TG_ARGV[0], resource, owner, operation, next_revision, fields,
        old_row - secrets, new_row - secrets,
        coalesce(actor, session_user),
        CASE WHEN actor IS NULL THEN 'database' ELSE 'service' END,
        session_user,
        nullif(current_setting('ruleiq.on_behalf_of', true), ''),
        nullif(current_setting('ruleiq.request_id', true), ''),
        nullif(current_setting('ruleiq.trace_id', true), ''),
        nullif(current_setting('ruleiq.commit_id', true), ''),
        pg_current_xact_id()::text::bigint,
        CASE WHEN operation = 'delete' AND TG_ARGV[1] = 'id' THEN clock_timestamp() END
    );
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute(RECORD_CHANGE)


def downgrade() -> None:
    op.execute(PREVIOUS)
