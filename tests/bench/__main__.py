"""`python -m tests.bench` (make bench), `python -m tests.bench --pool` (make bench-pool) or
`python -m tests.bench --workers` (make bench-workers)."""

from __future__ import annotations

import sys

from .run import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
