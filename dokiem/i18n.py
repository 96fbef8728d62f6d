"""What users read, in Vietnamese by default and English with ``--lang en``: the translator.

Code, identifiers and logs stay English; every string a person reads comes from a room's catalogue
(``dokiem/messages.py`` for the core, ``<room>/messages.py`` for each room), read through here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

LANGS = ("vi", "en")

_CATALOGUE: dict[str, tuple[str, str]] = {}


def add_texts(texts: Mapping[str, tuple[str, str]]) -> None:
    """A room's texts (key -> (Vietnamese, English)) join the catalogue when its ``messages`` module is
    imported (each room's package imports its own); a key belongs to one room."""
    clash = sorted(key for key in texts.keys() & _CATALOGUE.keys() if texts[key] != _CATALOGUE[key])
    if clash:
        raise ValueError(f"message keys defined twice: {', '.join(clash)}")
    _CATALOGUE.update(texts)


def catalogue() -> Mapping[str, tuple[str, str]]:
    """Every text the rooms imported so far have added."""
    return _CATALOGUE


def default_lang() -> str:
    lang = os.environ.get("DOKIEM_LANG", "vi").lower()
    return lang if lang in LANGS else "vi"


class Translator:
    def __init__(self, lang: str = "vi") -> None:
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGS)}")
        self.lang = lang
        self._index = LANGS.index(lang)

    def __call__(self, key: str, **values: object) -> str:
        text = _CATALOGUE[key][self._index] if key in _CATALOGUE else key
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in _CATALOGUE

    def number(self, value: float, digits: int = 1) -> str:
        """A decimal number as readers of this language write it (Vietnamese: 941,2)."""
        text = f"{value:,.{digits}f}"
        if self.lang == "vi":
            text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
        return text

    def error(self, code: str, detail: str) -> str:
        key = f"err_{code}"
        if not self.has(key):
            return detail
        return f"{self(key)} ({detail})"
