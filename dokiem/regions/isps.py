"""The network operators (``isps.csv``): the one name a result is filed under, whatever the spelling."""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ISPS_FILE = Path(__file__).resolve().parent / "isps.csv"


def spelling_key(text: str) -> str:
    """What two spellings of one name share: letters a-z and digits, without diacritics (đ is d), case,
    spaces, dashes or invisible characters. A letter of another script is dropped, so "VNРТ" (Cyrillic
    Р and Т) is not "VNPT"."""
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed.lower() if ("a" <= ch <= "z") or (ch.isdigit() and ch.isascii()))


@dataclass(frozen=True)
class Isp:
    name: str
    access: frozenset[str]  # fixed, mobile
    mccmnc: str | None
    aliases: tuple[str, ...]


class Isps:
    def __init__(self, isps: list[Isp]) -> None:
        self.all = isps
        self._seen: dict[str, str | None] = {}  # spellings met so far: a report reads a million rows
        self._by_key: dict[str, Isp] = {}
        for isp in isps:
            for spelling in (isp.name, *isp.aliases):
                self._by_key.setdefault(spelling_key(spelling), isp)

    @classmethod
    def load(cls, path: Path = ISPS_FILE) -> Isps:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        return cls([Isp(row["name"], frozenset(row["access"].split()), row["mccmnc"] or None,
                        tuple(a.strip() for a in row["aliases"].split(";") if a.strip())) for row in rows])  # fmt: skip

    def canonical(self, text: str | None) -> str | None:
        """The operator's own name for ``text`` (any listed spelling); None for a name not on the list."""
        if not text:
            return None
        if text not in self._seen:
            if len(self._seen) > 10_000:
                self._seen.clear()
            isp = self._by_key.get(spelling_key(text))
            self._seen[text] = isp.name if isp else None
        return self._seen[text]

    def names(self) -> list[str]:
        return [isp.name for isp in self.all]

    def mobile(self) -> list[str]:
        """The mobile operators' names, in the list's order."""
        return [isp.name for isp in self.all if "mobile" in isp.access]


@cache
def shipped_isps() -> Isps:
    return Isps.load()
