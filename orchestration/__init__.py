"""Dagster definitions of the community safety warehouse (``orchestration.definitions:defs``)."""
