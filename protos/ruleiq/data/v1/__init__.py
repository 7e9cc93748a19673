"""Generated messages and stubs for package ruleiq.data.v1 (built by `make proto`)."""
