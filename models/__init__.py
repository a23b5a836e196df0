"""Weitblick domain models: pure functions and classes that never import the orchestrator.

Layers: ``pipelines -> models -> libraries``. Everything here takes and returns the
canonical tables of :mod:`models.schemas` (pandas DataFrames) or typed objects.
"""
