"""`python -m repositories.migration_lint`: squawk on the SQL each migration's
upgrade runs (Alembic's offline mode, `alembic upgrade A:B --sql`), one file per
revision, so a finding names its migration.

A migration that only creates new, empty tables may set `squawk_exempt = "<why>"`
and is skipped as a whole; otherwise one statement's rule is ignored with
`squawk_ignore("rule", reason="...")` (repositories/migrations.py) just before the
statement, which renders as `-- squawk-ignore rule -- why` on the line above it."""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Sequence
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from alembic import command

from .config import PROJECT_ROOT
from .migrations import SQUAWK_IGNORE

# The oldest PostgreSQL the service is tested on (CI's second run).
PG_VERSION = "15"


def upgrade_sql(script_location: Path, down: str | None, revision: str) -> str:
    """The SQL `alembic upgrade <down>:<revision> --sql` prints."""
    buffer = io.StringIO()
    config = Config(str(PROJECT_ROOT / "alembic.ini"), output_buffer=buffer)
    config.set_main_option("script_location", str(script_location))
    command.upgrade(config, f"{down or 'base'}:{revision}", sql=True)
    # squawk applies an ignore comment to the line right after it: no blank line.
    return re.sub(rf"^({re.escape(SQUAWK_IGNORE)}.*)\n\n+", r"\1\n", buffer.getvalue(), flags=re.M)


def squawk_binary() -> str:
    """The squawk the squawk-cli wheel installed next to this interpreter."""
    beside = Path(sysconfig.get_path("scripts")) / "squawk"
    found = str(beside) if beside.exists() else shutil.which("squawk")
    if found is None:
        raise SystemExit("squawk not found: make install (squawk-cli is a dev dependency)")
    return found


def lint(script_location: Path) -> int:
    """squawk's exit status over every migration that is not exempt."""
    script = ScriptDirectory(str(script_location))
    revisions = list(reversed(list(script.walk_revisions())))
    with tempfile.TemporaryDirectory(prefix="migration-lint-") as directory:
        files = []
        for revision in revisions:
            exempt = getattr(revision.module, "squawk_exempt", None)
            if exempt:
                print(f"{revision.revision}: exempt ({exempt})")
                continue
            path = Path(directory) / f"{revision.revision}.sql"
            down = revision.down_revision
            assert down is None or isinstance(down, str), "migrations form one line"
            path.write_text(upgrade_sql(script_location, down, revision.revision))
            files.append(str(path))
        if not files:
            print("no migration to lint")
            return 0
        squawk = [squawk_binary(), f"--pg-version={PG_VERSION}", "--reporter=gcc", *files]
        return subprocess.run(squawk, check=False).returncode  # noqa: S603


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="migration-lint", description=__doc__)
    parser.add_argument(
        "--script-location", type=Path, default=PROJECT_ROOT / "alembic", help="alembic/"
    )
    args = parser.parse_args(argv)
    return lint(args.script_location)


if __name__ == "__main__":
    sys.exit(main())
