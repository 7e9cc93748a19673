"""`python -m tests.bench` (make bench) or `python -m tests.bench --pool` (make bench-pool)."""

from __future__ import annotations

import sys

from .run import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
