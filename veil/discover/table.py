"""Plain-text tables for the terminal: left-aligned columns two spaces apart, no trailing spaces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO


def write_table(header: Sequence[str], rows: Sequence[Sequence[str]], out: IO[str]) -> None:
    """``header`` then ``rows``, each column as wide as its widest cell."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    for row in (header, *rows):
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n")
