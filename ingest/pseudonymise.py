"""Keyed hashing of personal references (HMAC-SHA256), registered as a DuckDB function.

References are trimmed and upper-cased before hashing so that ``cr-0045 `` and
``CR-0045`` are the same person.  The hash is hex, 64 characters.

The warehouse keeps a fingerprint of its key (the HMAC of a constant, which reveals
nothing of the key) in ``raw.pseudonym_key``; a load with another key is refused
(:func:`check_key`), since it would give every person a second hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from datetime import UTC, datetime

import duckdb

from ingest.redact import mask_refs

FUNCTION = "csp_pseudonymise"
MASK_FUNCTION = "csp_mask_refs"
FINGERPRINT_INPUT = "csp-pseudonym-key-fingerprint/v1"
REKEY_ADVICE = (
    "Run with the key this warehouse was built with, or re-key: point CSP_WAREHOUSE at a"
    " new file and rebuild it from the landing files with the new key (docs/ingest.md,"
    " 'Re-keying')."
)


class KeyMismatchError(RuntimeError):
    """The warehouse was built with another pseudonym key."""


def key_fingerprint(key: str) -> str:
    return hmac.new(key.encode("utf-8"), FINGERPRINT_INPUT.encode(), hashlib.sha256).hexdigest()


def check_key(con: duckdb.DuckDBPyConnection, settings) -> None:
    """Record the key's fingerprint in a new warehouse; refuse a warehouse whose
    recorded fingerprint is another key's (``settings``: an ``ingest.config.Settings``)."""
    mine = key_fingerprint(settings.effective_key)
    rows = con.execute("select fingerprint from raw.pseudonym_key").fetchall()
    if not rows:
        con.execute(
            "insert into raw.pseudonym_key values (?, ?)",
            [mine, datetime.now(UTC).replace(tzinfo=None)],
        )
        return
    recorded = rows[0][0]
    if recorded != mine:
        demo = " (the public demo key)" if settings.uses_demo_key else ""
        raise KeyMismatchError(
            f"{settings.warehouse} was built with another CSP_PSEUDONYM_KEY (fingerprint"
            f" {recorded[:12]}; this run's key{demo} gives {mine[:12]}):"
            " loading would give every person a second hash and split repeat counts;"
            f" nothing was loaded. {REKEY_ADVICE}"
        )


def pseudonymise(reference: str | None, key: str) -> str | None:
    if reference is None:
        return None
    text = reference.strip().upper()
    if not text:
        return None
    return hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def register(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """Make ``csp_pseudonymise(varchar)`` and ``csp_mask_refs(varchar)`` (free text with
    each reference-shaped token masked by its keyed hash) available on this connection."""
    for name, function in (
        (FUNCTION, lambda ref: pseudonymise(ref, key)),
        (MASK_FUNCTION, lambda text: None if text is None else mask_refs(text, key)),
    ):
        with contextlib.suppress(duckdb.Error):
            con.remove_function(name)
        con.create_function(
            name,
            function,
            [duckdb.sqltype("VARCHAR")],
            duckdb.sqltype("VARCHAR"),
            side_effects=False,
        )
