"""The `fleetyard` command (entry point `fleetyard.cli.main:cli`)."""
