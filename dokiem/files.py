"""Writing files that must never be seen half-written, or by the wrong people."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# A published site's open data (``dokiem publish`` writes it; the collector serves the site at /public/
# and shows residents their commune's published median from its communes' file).
OPEN_DATA = "data"
COMMUNES_LEVEL = "communes"


def write_atomically(path: Path, data: str | bytes, mode: int = 0o600) -> None:
    """Write, fsync, rename: a crash leaves the old file or the new one, never half of one. The file
    has ``mode`` from its first byte (a reader never finds it with the wrong permissions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A value as a CSV cell a spreadsheet shows and never runs: text that could start a formula gets a
    leading ``'`` (numbers are left as they are)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
