"""Thin Dagster assets grouped by concept: inputs, valuation, optimisation, simulation, review."""
