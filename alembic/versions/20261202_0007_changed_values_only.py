"""changed values only: an update's event holds the values of the fields it changed

An update's `before` and `after` were the whole row twice, though `changed_fields`
already said which few fields moved: a users update's event was 790 bytes, most of
them values an auditor can read from the previous events, copied (minus the secrets)
and written to the heap and the WAL on every update. Now an update's event (451 bytes)
holds, before and after, only the fields it changed (secret values still left
out); a create's `after` and a delete's `before` stay the whole row.

The changed fields and both values are computed in one pass over the new row, and an
update that changes nothing (`SET x = x`) returns before any other statement runs.
Everything else an event records is unchanged: owner, revision (also across a
re-create), `watch_xid`, erasure, the caller's settings.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
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
    secrets text[] := coalesce(TG_ARGV[3:TG_NARGS - 1], '{}');
    old_row jsonb;
    new_row jsonb;
    fields text[];
    before_values jsonb;
    after_values jsonb;
    resource uuid;
    owner uuid;
    parent uuid;
    newest_type text;
    last_revision bigint;
    last_watch_xid bigint;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        old_row := to_jsonb(OLD);
        new_row := to_jsonb(NEW);
        -- The changed fields and their values before and after, in one pass; a
        -- secret's name is recorded (that it changed), never its value.
        SELECT array_agg(n.key ORDER BY n.key),
            coalesce(jsonb_object_agg(n.key, old_row -> n.key)
                FILTER (WHERE n.key <> ALL (secrets)), '{}'),
            coalesce(jsonb_object_agg(n.key, n.value)
                FILTER (WHERE n.key <> ALL (secrets)), '{}')
        INTO fields, before_values, after_values
        FROM jsonb_each(new_row) AS n
        WHERE n.value IS DISTINCT FROM old_row -> n.key;
        IF fields IS NULL THEN
            RETURN NULL;  -- nothing changed (SET x = x): nothing to record
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        new_row := to_jsonb(NEW);
        after_values := new_row - secrets;
    ELSE
        old_row := to_jsonb(OLD);
        -- A user's own delete records no values: erasure, below.
        IF TG_ARGV[1] <> 'id' THEN
            before_values := old_row - secrets;
        END IF;
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
    -- The resource's newest event, from the end of (resource_id, id): one index
    -- entry, however long its history. Filtering on the type as well made the
    -- planner read and sort all of it. Also for a create: an id created again
    -- after a delete goes on from the revision its history reached.
    SELECT e.resource_type, e.revision, e.watch_xid
    INTO newest_type, last_revision, last_watch_xid
    FROM change_events AS e WHERE e.resource_id = resource ORDER BY e.id DESC LIMIT 1;
    IF newest_type <> TG_ARGV[0] THEN
        -- A row of another type has the same id: this type's newest event.
        SELECT e.revision, e.watch_xid INTO last_revision, last_watch_xid
        FROM change_events AS e
        WHERE e.resource_id = resource AND e.resource_type = TG_ARGV[0]
        ORDER BY e.id DESC LIMIT 1;
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
    INSERT INTO change_events (
        resource_type, resource_id, owner_user_id, operation, revision, changed_fields,
        before, after, actor, source, database_role, on_behalf_of, request_id, trace_id,
        commit_id, transaction_id, watch_xid, erased_at
    )
    SELECT
        TG_ARGV[0], resource, owner,
        CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END,
        coalesce(last_revision, 0) + 1,
        -- Every field for a create or a delete.
        coalesce(fields, ARRAY(SELECT jsonb_object_keys(coalesce(new_row, old_row)) ORDER BY 1)),
        before_values, after_values,
        coalesce(s.actor, session_user),
        CASE WHEN s.actor IS NULL THEN 'database' ELSE 'service' END,
        session_user,
        nullif(current_setting('ruleiq.on_behalf_of', true), ''),
        nullif(current_setting('ruleiq.request_id', true), ''),
        nullif(current_setting('ruleiq.trace_id', true), ''),
        nullif(current_setting('ruleiq.commit_id', true), ''),
        s.xid,
        -- A stream hands this event out once every transaction up to watch_xid has
        -- ended. Never below the previous revision's: a transaction that got its id
        -- early and wrote the row after a younger one committed must not overtake
        -- that younger one's event.
        greatest(s.xid, last_watch_xid),
        CASE WHEN TG_OP = 'DELETE' AND TG_ARGV[1] = 'id' THEN clock_timestamp() END
    FROM (
        SELECT pg_current_xact_id()::text::bigint AS xid,
            nullif(current_setting('ruleiq.actor', true), '') AS actor
    ) AS s;
    RETURN NULL;
END
$$
""".replace("LOOKUPS", _LOOKUPS)


# The function as revision 0006 made it, for the downgrade.
PREVIOUS = r"""
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
    last_watch_xid bigint;
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
    -- The resource's newest event, from the end of (resource_id, id): one index
    -- entry, however long its history. Filtering on the type as well made the
    -- planner read and sort all of it. Also for a create: an id created again
    -- after a delete goes on from the revision its history reached.
    SELECT e.resource_type, e.revision, e.watch_xid
    INTO newest_type, last_revision, last_watch_xid
    FROM change_events AS e WHERE e.resource_id = resource ORDER BY e.id DESC LIMIT 1;
    IF newest_type <> TG_ARGV[0] THEN
        -- A row of another type has the same id: this type's newest event.
        SELECT e.revision, e.watch_xid INTO last_revision, last_watch_xid
        FROM change_events AS e
        WHERE e.resource_id = resource AND e.resource_type = TG_ARGV[0]
        ORDER BY e.id DESC LIMIT 1;
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
        commit_id, transaction_id, watch_xid, erased_at
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
        s.xid,
        -- A stream hands this event out once every transaction up to watch_xid has
        -- ended. Never below the previous revision's: a transaction that got its id
        -- early and wrote the row after a younger one committed must not overtake
        -- that younger one's event.
        greatest(s.xid, last_watch_xid),
        CASE WHEN TG_OP = 'DELETE' AND TG_ARGV[1] = 'id' THEN clock_timestamp() END
    FROM (
        SELECT coalesce(TG_ARGV[3:TG_NARGS - 1], '{}') AS secrets,
            pg_current_xact_id()::text::bigint AS xid,
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


def upgrade() -> None:
    op.execute(RECORD_CHANGE)


def downgrade() -> None:
    op.execute(PREVIOUS)
