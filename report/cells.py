"""Text cells a spreadsheet must not run: the one rule for the workbook and every CSV.

OWASP's "CSV injection" guidance: a cell whose text starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is read by Excel and LibreOffice as a formula (a
partner's note ``=HYPERLINK(...)`` would become a live link).  Such a text gets a
leading apostrophe, so it shows as typed and never runs.  Numbers are not text and stay
numbers (a negative count is still a number).
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    """``text``, with a leading apostrophe when a spreadsheet could take it for a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
