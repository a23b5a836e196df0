"""Weitblick orchestration: Dagster assets, resources, checks, schedules, the CLI and readers."""
