"""Writing a benchmark's figures into docs/benchmarks.md, between its own markers."""

from __future__ import annotations

import os
import platform
import re
import time
from pathlib import Path


def run_line(command: str, seconds: float) -> str:
    """How a figure was made: the command, the machine and the day, the time it took."""
    return (f"Command: `{command}` on {os.cpu_count()} cores ({platform.machine()}, Python "
            f"{platform.python_version()}), {time.strftime('%Y-%m-%d')}, {seconds:.0f} s in all")  # fmt: skip


def write_section(path: Path, name: str, text: str) -> None:
    """Replace what stands between ``<!-- name:start -->`` and ``<!-- name:end -->`` (appended if absent)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    doc = path.read_text() if path.exists() else "# Benchmarks\n"
    if start not in doc:
        doc += f"\n{start}\n{end}\n"
    doc = re.sub(f"{re.escape(start)}.*?{re.escape(end)}", lambda _: f"{start}\n{text}\n{end}", doc, flags=re.S)
    path.write_text(doc)


def show_and_record(lines: list[str], path: Path, name: str, write: bool) -> None:
    """Print a run's figures and, unless told not to, put them in their section of ``path``."""
    text = "\n".join(lines)
    print(text)
    if write:
        write_section(path, name, text)
