"""The change history's database side: what a write's transaction tells the
recording trigger (alembic 0002, `record_change()`).

The trigger reads `ruleiq.*` settings that the unit of work sets, transaction-
scoped, in the statement that opens the transaction. A session setting would stay
on the server connection after the call, and behind PgBouncer in transaction mode
the next client's writes would carry this caller's name."""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger("ruleiq_data.history")

SETTING_PREFIX = "ruleiq."
# Longest value a setting may carry; longer ones are cut (ids and names are short).
MAX_SETTING_LENGTH = 256


@dataclass(frozen=True)
class ChangeContext:
    """Who writes, for whom, as part of what: recorded with every change event.

    `commit_id` groups the events of one commit; a single Create, Update or Delete
    leaves it empty (its events share `transaction_id` anyway)."""

    actor: str
    on_behalf_of: str | None = None
    request_id: str | None = None
    trace_id: str | None = None
    commit_id: str | None = None

    def settings_sql(self) -> str:
        """One `SELECT set_config(...)` setting every known value for the current
        transaction only (`is_local` true)."""
        values = {
            "actor": self.actor,
            "on_behalf_of": self.on_behalf_of,
            "request_id": self.request_id,
            "trace_id": self.trace_id,
            "commit_id": self.commit_id,
        }
        calls = [
            f"set_config('{SETTING_PREFIX}{name}', {literal(value)}, true)"
            for name, value in values.items()
            if value
        ]
        return "SELECT " + ", ".join(calls)


def literal(value: str) -> str:
    """`value` as an SQL escape-string literal (E'...'), whose meaning does not
    depend on standard_conforming_strings: backslashes and quotes doubled. NUL,
    which no text may hold, is dropped."""
    cut = value.replace("\x00", "")[:MAX_SETTING_LENGTH]
    return "E'" + cut.replace("\\", "\\\\").replace("'", "''") + "'"
