"""The database side of ruleiq-data: engines, models, unit of work, repositories."""
