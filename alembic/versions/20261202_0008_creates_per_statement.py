"""creates recorded per statement: a multi-row INSERT records its events in one INSERT

`record_change()` ran once per row: for a batch of 100 creates, 100 PL/pgSQL calls,
each starting its own queries (the revision lookup, the event's INSERT), about 0.1 ms
of database CPU per row, six times what the row's own INSERT costs. Creates are now
recorded by `record_creates()`, a statement-level trigger that reads the statement's
inserted rows from its transition table (`created`) and writes all their events with
one `INSERT ... SELECT`; updates and deletes stay row by row in `record_change()`
(each has its own values, and its own erasure for a user's delete).

An event is the same as before, field for field: owner, revision (also across a
re-create), `watch_xid`, the caller's settings. The parent-owner lookup both
functions need is `parent_owner()`, callable only by their owner.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:30:00
"""

from collections.abc import Sequence

from alembic import op
from repositories.migrations import revision_module

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables whose id a resource's owner column may hold instead of the user's (the
# triggers' third argument). Each gets a static owner lookup, planned once per
# session; a parent table missing here still works, through dynamic SQL.
PARENTS = ("assessment_sessions", "integrations", "chat_conversations")

# The migration's own table names, never a value.
_LOOKUP = """
    {keyword} parent_table = 'TABLE' THEN
        SELECT p.user_id INTO owner FROM TABLE AS p WHERE p.id = parent;"""
_LOOKUPS = "".join(
    _LOOKUP.replace("TABLE", table).replace("{keyword}", "ELSIF" if i else "IF")
    for i, table in enumerate(PARENTS)
)

PARENT_OWNER = r"""
CREATE FUNCTION parent_owner(parent_table text, parent uuid) RETURNS uuid
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public AS $$
DECLARE
    owner uuid;
BEGIN
    -- The user owning `parent`, a row of `parent_table`.LOOKUPS
    ELSE
        EXECUTE format('SELECT user_id FROM %I WHERE id = $1', parent_table)
            INTO owner USING parent;
    END IF;
    IF owner IS NULL THEN
        -- The parent went first (a cascade): its history still names the owner.
        SELECT e.owner_user_id INTO owner FROM change_events AS e
        WHERE e.resource_id = parent ORDER BY e.id DESC LIMIT 1;
    END IF;
    RETURN owner;
END
$$
""".replace("LOOKUPS", _LOOKUPS)

# What both functions record of who wrote, from the caller's settings (`s.actor` is
# `ruleiq.actor`; `s.xid` the transaction's id): actor, source, database_role,
# on_behalf_of, request_id, trace_id, commit_id, transaction_id.
CALLER = """coalesce(s.actor, session_user),
        CASE WHEN s.actor IS NULL THEN 'database' ELSE 'service' END,
        session_user,
        nullif(current_setting('ruleiq.on_behalf_of', true), ''),
        nullif(current_setting('ruleiq.request_id', true), ''),
        nullif(current_setting('ruleiq.trace_id', true), ''),
        nullif(current_setting('ruleiq.commit_id', true), ''),
        s.xid,"""

# Both functions read settings the service sets for the transaction only: see
# repositories/history.py.
RECORD_CREATES = r"""
CREATE FUNCTION record_creates() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
-- Its INSERT's parameters (TG_ARGV) make the planner's estimate for a generic plan
-- look worse than a custom one, so it would plan the statement on every call: twice
-- the cost of recording a single create.
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    -- TG_ARGV: as record_change()'s. `created`: the rows the statement inserted.
    INSERT INTO change_events (
        resource_type, resource_id, owner_user_id, operation, revision, changed_fields,
        before, after, actor, source, database_role, on_behalf_of, request_id, trace_id,
        commit_id, transaction_id, watch_xid
    )
    SELECT
        TG_ARGV[0], c.id,
        CASE
            WHEN TG_ARGV[2] <> '' THEN parent_owner(TG_ARGV[2], (c.row ->> TG_ARGV[1])::uuid)
            WHEN TG_ARGV[1] <> '' THEN (c.row ->> TG_ARGV[1])::uuid
        END,
        'create',
        -- An id created again after a delete goes on from the revision its history
        -- reached.
        coalesce(last.revision, 0) + 1,
        ARRAY(SELECT jsonb_object_keys(c.row) ORDER BY 1),
        NULL, c.row - s.secrets,
        CALLER
        -- Never below the previous revision's: see record_change().
        greatest(s.xid, last.watch_xid)
    FROM (
        SELECT pg_current_xact_id()::text::bigint AS xid,
            nullif(current_setting('ruleiq.actor', true), '') AS actor,
            coalesce(TG_ARGV[3:TG_NARGS - 1], '{}') AS secrets
    ) AS s
    CROSS JOIN (SELECT n.id, to_jsonb(n) AS row FROM created AS n) AS c
    -- The resource's newest event, from the end of (resource_id, id); only when a
    -- row of another type had the same id, this type's newest (as record_change()).
    LEFT JOIN LATERAL (
        SELECT e.resource_type, e.revision, e.watch_xid FROM change_events AS e
        WHERE e.resource_id = c.id ORDER BY e.id DESC LIMIT 1
    ) AS newest ON true
    LEFT JOIN LATERAL (
        SELECT e.revision, e.watch_xid FROM change_events AS e
        WHERE newest.resource_type <> TG_ARGV[0]
            AND e.resource_id = c.id AND e.resource_type = TG_ARGV[0]
        ORDER BY e.id DESC LIMIT 1
    ) AS typed ON true
    CROSS JOIN LATERAL (
        SELECT
            CASE WHEN newest.resource_type = TG_ARGV[0] THEN newest.revision
                ELSE typed.revision END AS revision,
            CASE WHEN newest.resource_type = TG_ARGV[0] THEN newest.watch_xid
                ELSE typed.watch_xid END AS watch_xid
    ) AS last;
    RETURN NULL;
END
$$
""".replace("CALLER", CALLER)

RECORD_CHANGE = r"""
CREATE OR REPLACE FUNCTION record_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    -- TG_ARGV: resource type, owner column, owner column's table, secrets...
    secrets text[] := coalesce(TG_ARGV[3:TG_NARGS - 1], '{}');
    old_row jsonb := to_jsonb(OLD);
    new_row jsonb;
    fields text[];
    before_values jsonb;
    after_values jsonb;
    resource uuid;
    owner uuid;
    newest_type text;
    last_revision bigint;
    last_watch_xid bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        RAISE EXCEPTION 'record_change() records updates and deletes; record_creates() inserts';
    ELSIF TG_OP = 'UPDATE' THEN
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
    ELSIF TG_ARGV[1] <> 'id' THEN
        -- A user's own delete records no values: erasure, below.
        before_values := old_row - secrets;
    END IF;
    resource := (coalesce(new_row, old_row) ->> 'id')::uuid;
    IF TG_ARGV[2] <> '' THEN
        owner := parent_owner(TG_ARGV[2], (coalesce(new_row, old_row) ->> TG_ARGV[1])::uuid);
    ELSIF TG_ARGV[1] <> '' THEN
        owner := (coalesce(new_row, old_row) ->> TG_ARGV[1])::uuid;
    END IF;
    -- The resource's newest event, from the end of (resource_id, id): one index
    -- entry, however long its history. Filtering on the type as well made the
    -- planner read and sort all of it.
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
        CASE TG_OP WHEN 'UPDATE' THEN 'update' ELSE 'delete' END,
        coalesce(last_revision, 0) + 1,
        -- Every field for a delete.
        coalesce(fields, ARRAY(SELECT jsonb_object_keys(old_row) ORDER BY 1)),
        before_values, after_values,
        CALLER
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
""".replace("CALLER", CALLER)


def _recorded() -> dict[str, tuple[str, str, str, tuple[str, ...]]]:
    recorded: dict[str, tuple[str, str, str, tuple[str, ...]]] = revision_module("0002").RECORDED
    return recorded


def _arguments(table: str) -> str:
    resource_type, owner, owner_table, secrets = _recorded()[table]
    return ", ".join(f"'{value}'" for value in (resource_type, owner, owner_table, *secrets))


def upgrade() -> None:
    op.execute(PARENT_OWNER)
    # Only record_change(), and so its owner, may call it.
    op.execute("REVOKE ALL ON FUNCTION parent_owner(text, uuid) FROM PUBLIC")
    op.execute(RECORD_CREATES)
    op.execute(RECORD_CHANGE)
    # One transaction: no write between the two triggers goes unrecorded.
    for table in _recorded():
        arguments = _arguments(table)
        op.execute(f"DROP TRIGGER record_change ON {table}")
        op.execute(
            f"CREATE TRIGGER record_change AFTER UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION record_change({arguments})"
        )
        op.execute(
            f"CREATE TRIGGER record_creates AFTER INSERT ON {table} "
            "REFERENCING NEW TABLE AS created "
            f"FOR EACH STATEMENT EXECUTE FUNCTION record_creates({arguments})"
        )


def downgrade() -> None:
    for table in _recorded():
        op.execute(f"DROP TRIGGER record_creates ON {table}")
        op.execute(f"DROP TRIGGER record_change ON {table}")
        op.execute(
            f"CREATE TRIGGER record_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION record_change({_arguments(table)})"
        )
    op.execute(revision_module("0007").RECORD_CHANGE)
    op.execute("DROP FUNCTION record_creates()")
    op.execute("DROP FUNCTION parent_owner(text, uuid)")
