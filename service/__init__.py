"""The gRPC side of ruleiq-data: settings, server assembly, error mapping, CLI."""
