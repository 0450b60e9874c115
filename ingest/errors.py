"""The one error type ingest raises for bad input: it names the file, row and column."""

from __future__ import annotations

from ingest.redact import mask_refs, one_line


class IngestError(Exception):
    """A delivered file breaks its feed's contract.

    ``row`` is the row a person sees when opening the file (header = row 1);
    ``column`` is the header as delivered (or the contract's name when absent).
    The text never shows a reference-shaped token or a control character.
    """

    def __init__(
        self,
        file: str,
        problem: str,
        row: int | None = None,
        column: str | None = None,
        more: int = 0,
    ) -> None:
        self.file = file
        self.problem = problem
        self.row = row
        self.column = column
        self.more = more
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        text = ", ".join(where) + ": " + self.problem
        if self.more:
            text += f" ({self.more} more row{'s' if self.more != 1 else ''} like this)"
        # the last guard: a header cell, a sheet name or a library's message quoted in
        # the problem shows no reference and cannot break the line (ingest/redact.py)
        return one_line(mask_refs(text))


class IngestErrors(IngestError):
    """Several contract breaches in one file, reported together."""

    def __init__(self, errors: list[IngestError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(first.file, first.problem, first.row, first.column, first.more)

    def __str__(self) -> str:
        return "; ".join(IngestError.__str__(e) for e in self.errors)
