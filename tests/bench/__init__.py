"""`make bench`: the service's speed, measured against a seeded PostgreSQL from a
separate client process. Not collected by pytest: speed is measured, never asserted
by a unit test (DESIGN.md, Testing)."""
