"""ruleIQ generated API packages."""
