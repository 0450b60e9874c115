"""What a message, a file name or a note may show: the one home of the reference shape.

A personal reference (a caller, victim, client or case) is hashed at ingest when it
sits in its own column.  Found anywhere else — a column swapped with its neighbour, a
partner's note, a file name — it is recognised by its shape and never shown as is:

* an error quotes a value only for a column the contract marks as non-personal, and
  only when the value has no reference-shaped token (:func:`quotable`);
* a free-text value or a file name shows each reference-shaped token as
  ``[ref:<8 hex>]``, the start of its keyed hash (:func:`mask_refs`), so two names stay
  two names and nobody without the key can read the reference back;
* every text shown on one line has its control characters escaped
  (:func:`one_line`), so a newline in a file name cannot forge a log line.

The shape is that of every personal reference format the feeds deliver (see the
sample generator, ``ingest/sample_data.py``: ``CR-004512``, ``CN-020001``,
``VR-0100000``, ``BV-01000``, ``ASB-C01000``, ``MC-001000``, ``MV-002570``,
``HC-001000``): one to four letters, a hyphen, an optional letter, four to eight
digits, not inside a longer code.  Non-personal ids (``CP-20160401-0007``,
``CRI-163-00001``, ``SR-2016-10001``, ``IDVA-163-001``, LSOA and ward codes) do not
have it; ``tests/test_ingest_redact.py`` checks both lists against the generator.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

# the shape, written once; the Python and SQL (RE2, no look-around) forms derive from it
REF_SHAPE = r"[A-Za-z]{1,4}-[A-Za-z]?[0-9]{4,8}"
_EDGE = "A-Za-z0-9-"  # a token ends where none of these follows or precedes
_TOKEN = re.compile(rf"(?<![{_EDGE}]){REF_SHAPE}(?![{_EDGE}])")
SQL_TOKEN = rf"(^|[^{_EDGE}]){REF_SHAPE}($|[^{_EDGE}])"

WITHHELD = "value withheld: looks like a personal reference"
MASKED = "[personal reference withheld]"


def looks_like_ref(text: object) -> bool:
    """True when ``text`` holds a reference-shaped token anywhere."""
    return text is not None and _TOKEN.search(str(text)) is not None


def sql_looks_like_ref(value_sql: str) -> str:
    """SQL, true where the text ``value_sql`` holds a reference-shaped token."""
    return f"regexp_matches({value_sql}, '{SQL_TOKEN}')"


def ref_token(reference: str, key: str) -> str:
    """``[ref:<8 hex>]``: the start of the reference's keyed hash (as in ``_hash`` columns)."""
    text = reference.strip().upper().encode("utf-8")
    return f"[ref:{hmac.new(key.encode('utf-8'), text, hashlib.sha256).hexdigest()[:8]}]"


def mask_refs(text: str, key: str | None = None) -> str:
    """``text`` with each reference-shaped token replaced: by :func:`ref_token` when a
    key is given, else by a fixed marker."""
    if key is None:
        return _TOKEN.sub(MASKED, text)
    return _TOKEN.sub(lambda m: ref_token(m.group(0), key), text)


def one_line(text: str) -> str:
    r"""Control, format and line/paragraph separator characters as ``\xNN`` / ``\uNNNN``."""
    if text.isprintable():
        return text
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if _unsafe(ch) else ch for ch in text
    )


def _unsafe(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] == "C" or category in ("Zl", "Zp")


def safe_name(name: str, key: str | None = None) -> str:
    """A file name as the ledger, the logs and every message show it."""
    return one_line(mask_refs(name, key))


def quotable(value: object, personal: bool = False) -> bool:
    """May an error message quote this value? Not for a personal column, not when it
    holds a reference-shaped token."""
    return not personal and value not in (None, "") and not looks_like_ref(value)
