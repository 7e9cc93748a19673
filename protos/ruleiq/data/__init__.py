"""ruleiq-data API (gRPC data-access service)."""
