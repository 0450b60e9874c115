"""The sample data generator, one module per seam (see ``docs/sample_data.md``).

``ingest.sample.generator`` holds the entry points (``generate``, ``main``); the
command line is ``python -m ingest.sample_data`` (a thin alias module).
"""
