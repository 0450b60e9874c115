"""Ingest agency extracts from the landing folder into the DuckDB ``raw`` schema."""
