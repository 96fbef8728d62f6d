"""Vietnamese alphabetical order, for every list sorted by name (the report, the site, the dashboards).

The alphabet is a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y (f, j, w and z, in names from other
languages, take their Latin places); letters first, and only between
words that are the same letters the tones decide, in the dictionaries' order: none, huyền, hỏi, ngã,
sắc, nặng (a à ả ã á ạ). Code points get this wrong ("Biện" before "Bát"); so does a plain
diacritic-stripping sort (đ after d, ư after u, are letters of their own).
"""

from __future__ import annotations

import re
import unicodedata

ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_RANK = {letter: n for n, letter in enumerate(ALPHABET)}
# combining marks that make a letter of the alphabet (breve, circumflex, horn) and the five tones
_LETTER_MARKS = {"\u0306": "breve", "\u0302": "circumflex", "\u031b": "horn"}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}  # huyền hỏi ngã sắc nặng
_MARKED = {("a", "breve"): "ă", ("a", "circumflex"): "â", ("e", "circumflex"): "ê", ("o", "circumflex"): "ô",
           ("o", "horn"): "ơ", ("u", "horn"): "ư"}  # fmt: skip
UNIT_TYPES = ("thành phố", "thị xã", "thị trấn", "huyện", "phường", "xã", "đặc khu", "tỉnh")  # a name's first words
# the newer convention's tone on the second vowel of an open "oa", "oe", "uy" ("Hoá", "Thuỷ"); the statistics
# office's lists put it on the first ("Hóa", "Thủy"), and so does every name dokiem shows
_SECOND_TONED = re.compile(r"(?<![qQ])([oOuU])([áàảãạéèẻẽẹýỳỷỹỵ])(?=$|[\s\-,.;:)])")


def _tone_on_first(match: re.Match[str]) -> str:
    first, second = match.group(1), match.group(2)
    decomposed = unicodedata.normalize("NFD", second)
    return unicodedata.normalize("NFC", first + decomposed[1:]) + decomposed[0]


def normal_name(name: str) -> str:
    """One spelling of a place's name, whichever source wrote it: NFC, the tone of an open "oa", "oe", "uy" on
    its first vowel, the apostrophe a keyboard types, single spaces, the first letter a capital."""
    text = " ".join(unicodedata.normalize("NFC", name).replace("’", "'").split())
    text = _SECOND_TONED.sub(_tone_on_first, text)
    return text[:1].upper() + text[1:]


def _letters(text: str) -> list[tuple[str, int]]:
    """Each letter of ``text`` (lower case, its own letter of the alphabet) with its tone."""
    out: list[tuple[str, int]] = []
    for char in unicodedata.normalize("NFD", text.lower()):
        if char in _LETTER_MARKS and out:
            base, tone = out[-1]
            out[-1] = (_MARKED.get((base, _LETTER_MARKS[char]), base), tone)
        elif char in _TONES and out:
            out[-1] = (out[-1][0], _TONES[char])
        elif not unicodedata.combining(char):
            out.append((char, 0))
    return out


def collation_key(text: str) -> tuple[tuple[tuple[int, str], ...], tuple[int, ...]]:
    """Sorts ``text`` in Vietnamese order: by letters, then by tones; other characters after the alphabet
    by code point."""
    letters = _letters(text)
    primary = tuple((_RANK.get(letter, len(ALPHABET) + 1 if letter.isalnum() else -1), letter)
                    for letter, _ in letters)  # fmt: skip
    return primary, tuple(tone for _, tone in letters)


def unit_key(name: str) -> tuple[object, ...]:
    """A unit by its own name ("Bát Mọt" of "Xã Bát Mọt"), then by its type: a list of communes reads
    like the gazetteer, not grouped by "Phường" and "Xã"."""
    lower = name.lower()
    kind = next((t for t in UNIT_TYPES if lower.startswith(t + " ")), "")
    return collation_key(name[len(kind) :].strip()), collation_key(name)


def sorted_vietnamese(names: list[str]) -> list[str]:
    return sorted(names, key=collation_key)
