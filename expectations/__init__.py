"""Great Expectations suites for the warehouse, run as Dagster asset checks.

``expectations.feed_suites`` builds one suite per agency feed from its contract in
``ingest/feeds.py`` (types, allowed values, uniqueness of the natural key, dates inside
the delivered period, volume against the same period last year) plus a ledger suite
(no outstanding rejected file).  ``expectations.marts`` is where mart completeness
suites go.  ``expectations.runner`` runs suites with GX 1.x over pandas frames read
from DuckDB and renders GX Data Docs next to the warehouse file.

Importing this package does not import Great Expectations (about 2.5 s): GX is
imported on the first validation only.  See docs/expectations.md.
"""

from expectations.runner import Expect, SuiteOutcome, SuiteRun, data_docs_dir, expect

__all__ = ["Expect", "SuiteOutcome", "SuiteRun", "data_docs_dir", "expect"]
