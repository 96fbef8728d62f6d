"""What people read: every text the code can show is in Vietnamese and in English with the same
placeholders, every help text of the command line has its Vietnamese, and Vietnamese names are listed
in Vietnamese alphabetical order."""

from __future__ import annotations

import importlib
import re
import string
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import dokiem
from dokiem.cli import main
from dokiem.collation import collation_key
from dokiem.contract import ACCESS_TYPES, ErrorCode, Flag, ServerLocation
from dokiem.helptext import translated
from dokiem.i18n import catalogue
from dokiem.status import UpdateOutcome

PACKAGE = Path(dokiem.__file__).resolve().parent.parent
ROOMS = ("agent", "collector", "grafana", "reports", "testserver", "admin")
# Texts whose languages write a different thing: Vietnamese numbers a quarter in Roman numerals, and names
# a province in running text with its kind ("tỉnh Thanh Hóa", "thành phố Hồ Chí Minh") where English uses its name.
PLACEHOLDERS_DIFFER = {
    "rpt_quarter": ({"roman", "year"}, {"number", "year"}),
    "pub_intro": ({"province_in_text", "quarter"}, {"province", "quarter"}),
    "docx_subtitle": ({"province_in_text", "quarter"}, {"province", "quarter"}),
}


def _all_texts() -> dict[str, tuple[str, str]]:
    importlib.import_module("dokiem.messages")
    for room in ROOMS:
        try:
            importlib.import_module(f"dokiem.{room}.messages")
        except ModuleNotFoundError:
            continue
    return dict(catalogue())


def _sources() -> Iterator[Path]:
    for room in ("dokiem", *ROOMS):
        yield from (path for path in (PACKAGE / room).rglob("*.py") if path.is_file())


def _keys_named_in(paths: Iterator[Path]) -> set[str]:
    named = set()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        named |= set(re.findall(r'\btr\(\s*"([a-z0-9_]+)"', text))
        named |= {f"stage_{stage}" for stage in re.findall(r'\bprogress\(\s*"([a-z]+)"', text)}
    return named


def _keys_named_in_code() -> set[str]:
    return _keys_named_in(_sources())


@pytest.mark.parametrize("room", ROOMS)
def test_each_room_names_only_its_own_texts_and_the_cores(room: str) -> None:
    """A command loads its own room's texts (and the core's), not its neighbours': a key of another room
    would print as the bare key ("rpt_written" from dokiem grafana build)."""
    core = importlib.import_module("dokiem.messages").TEXTS
    own = importlib.import_module(f"dokiem.{room}.messages").TEXTS
    assert sorted(_keys_named_in((PACKAGE / room).rglob("*.py")) - core.keys() - own.keys()) == []


def _keys_made_from_values() -> set[str]:
    return ({f"flag_{flag.value}" for flag in Flag} | {f"err_{code.value}" for code in ErrorCode}
            | {f"access_{access}" for access in ACCESS_TYPES} | {f"location_{where.value}" for where in ServerLocation}
            | {f"update_{outcome.value}" for outcome in UpdateOutcome})  # fmt: skip


def test_every_text_the_code_can_show_is_in_the_catalogue() -> None:
    texts = _all_texts()
    named = _keys_named_in_code()
    assert len(named) > 100, "the scan found the calls"
    assert sorted((named | _keys_made_from_values()) - texts.keys()) == []


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _words(text: str) -> str:
    """What is left of a text once placeholders, punctuation and acronyms (CPU, ISP) are removed."""
    text = re.sub(r"\{[^}]*\}", " ", text)
    return " ".join(word for word in re.findall(r"\w+", text) if not word.isupper() and not word.isdigit())


def test_every_text_is_written_in_both_languages_with_the_same_placeholders() -> None:
    for key, (vietnamese, english) in _all_texts().items():
        assert vietnamese.strip() and english.strip(), key
        expected = PLACEHOLDERS_DIFFER.get(key, (_placeholders(english), _placeholders(english)))
        assert (_placeholders(vietnamese), _placeholders(english)) == expected, key
        if _words(english):
            assert vietnamese != english, f"{key} is not translated: {english!r}"


def _commands(
    command: click.Command, ctx: click.Context, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, name
            yield from _commands(sub, click.Context(sub, parent=ctx, info_name=name), (*path, name))


def _every_command() -> list[tuple[tuple[str, ...], click.Command]]:
    with click.Context(main, info_name="dokiem") as ctx:
        return list(_commands(main, ctx, ()))


def test_every_help_text_of_the_command_line_has_its_vietnamese() -> None:
    untranslated = []
    for path, command in _every_command():
        texts = [command.help, command.short_help] + [
            param.help for param in command.params if isinstance(param, click.Option) and not param.hidden
        ]
        untranslated += [(" ".join(path), text) for text in texts if text and translated(text, "vi") == text]
    assert untranslated == []


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_command_gives_its_help_in_the_language_asked(lang: str) -> None:
    runner = CliRunner()
    heading, other = ("Tùy chọn:", "Options:") if lang == "vi" else ("Options:", "Tùy chọn:")
    paths = [path for path, _ in _every_command()]
    assert len(paths) > 30
    for path in paths:
        shown = runner.invoke(main, ["--lang", lang, *path, "--help"], env={"DOKIEM_LANG": ""})
        assert shown.exit_code == 0, (path, shown.output)
        assert heading in shown.output and other not in shown.output, (path, shown.output)


def test_the_language_of_the_help_follows_dokiem_lang() -> None:
    shown = CliRunner().invoke(main, ["agent", "--help"], env={"DOKIEM_LANG": "en"})
    assert "Commands:" in shown.output and "Lệnh:" not in shown.output


# Vietnamese order: a ă â b c d đ e ê ... o ô ơ ... u ư ...; a letter's marks come before its tone.
@pytest.mark.parametrize(
    ("earlier", "later"),
    [("An Nông", "Ăn"), ("Ăn", "Âm"), ("Dương", "Đông"), ("Đông", "Êm"), ("Ô", "Ơ"), ("Ơ", "Pù"), ("U", "Ư"),
     ("Ưng", "Vân"), ("Ba", "Bà"), ("Bà", "Bả"), ("Ngọc Lặc", "Nhi Sơn"), ("Hạ Hoà", "Hà Trung"), ("Yên", "Yên Định")],
)  # fmt: skip
def test_vietnamese_names_are_in_the_alphabets_order(earlier: str, later: str) -> None:
    assert collation_key(earlier) < collation_key(later)


NAME_LETTERS = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ "


@given(st.text(alphabet=NAME_LETTERS, max_size=12), st.text(alphabet=NAME_LETTERS, max_size=12))
def test_two_names_tie_only_when_they_are_the_same_name_in_any_case(one: str, other: str) -> None:
    assert collation_key(one) == collation_key(one.upper())
    assert (collation_key(one) == collation_key(other)) == (one == other)
