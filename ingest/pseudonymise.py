"""Keyed hashing of personal references (HMAC-SHA256), registered as a DuckDB function.

References are trimmed and upper-cased before hashing so that ``cr-0045 `` and
``CR-0045`` are the same person.  The hash is hex, 64 characters.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac

import duckdb

FUNCTION = "csp_pseudonymise"


def pseudonymise(reference: str | None, key: str) -> str | None:
    if reference is None:
        return None
    text = reference.strip().upper()
    if not text:
        return None
    return hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def register(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """Make ``csp_pseudonymise(varchar)`` available on this connection."""
    with contextlib.suppress(duckdb.Error):
        con.remove_function(FUNCTION)
    con.create_function(
        FUNCTION,
        lambda ref: pseudonymise(ref, key),
        [duckdb.sqltype("VARCHAR")],
        duckdb.sqltype("VARCHAR"),
        side_effects=False,
    )
