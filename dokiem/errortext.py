"""What the command line says when something is wrong, in the reader's language: click's own words (usage
errors), a configuration file's problems (pydantic's by error type, dokiem's own by phrase) and the operating
system's (by errno). English is as written; Vietnamese comes from the tables here. ``helptext.py`` does the
same for the help.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

# click's templates (its gettext messages) and their Vietnamese; the {names} are click's own
CLICK: dict[str, str] = {
    "Error: {message}": "Lỗi: {message}",
    "Try '{command} {option}' for help.": "Xem '{command} {option}' để được hướng dẫn.",
    "Invalid value for {param_hint}: {message}": "Giá trị không hợp lệ cho {param_hint}: {message}",
    "Invalid value: {message}": "Giá trị không hợp lệ: {message}",
    "Missing argument": "Thiếu tham số",
    "Missing option": "Thiếu tùy chọn",
    "Missing parameter": "Thiếu tham số",
    "Missing parameter: {param_name}": "Thiếu tham số: {param_name}",
    "Missing {param_type}": "Thiếu {param_type}",
    "Missing command.": "Thiếu lệnh.",
    "No such option {name!r}.": "Không có tùy chọn {name!r}.",
    "No such command {name!r}.": "Không có lệnh {name!r}.",
    "Did you mean {possibility}?": "Có phải ý bạn là {possibility}?",
    "(Did you mean one of: {possibilities}?)": "(Có phải ý bạn là một trong: {possibilities}?)",
    "Got unexpected extra argument ({args})": "Thừa tham số không mong đợi ({args})",
    "Got unexpected extra arguments ({args})": "Thừa các tham số không mong đợi ({args})",
    "Option {name!r} requires an argument.": "Tùy chọn {name!r} cần một giá trị.",
    "Option {name!r} requires {nargs} arguments.": "Tùy chọn {name!r} cần {nargs} giá trị.",
    "Option {name!r} does not take a value.": "Tùy chọn {name!r} không nhận giá trị.",
    "Argument {name!r} takes {nargs} values.": "Tham số {name!r} nhận {nargs} giá trị.",
    "Takes {nargs} values but 1 was given.": "Cần {nargs} giá trị nhưng chỉ có 1.",
    "Takes {nargs} values but {len} were given.": "Cần {nargs} giá trị nhưng có {len}.",
    "{value!r} is not {choice}.": "{value!r} không phải {choice}.",
    "{value!r} is not one of {choices}.": "{value!r} không phải một trong {choices}.",
    "{value} is not in the range {range}.": "{value} nằm ngoài khoảng {range}.",
    "{value!r} is not a valid {number_type}.": "{value!r} không phải là số hợp lệ.",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} không phải đúng/sai ({states}).",
    "{value!r} is not a valid UUID.": "{value!r} không phải UUID hợp lệ.",
    "{value!r} does not match the format {format}.": "{value!r} không đúng dạng {format}.",
    "{value!r} does not match the formats {formats}.": "{value!r} không đúng các dạng {formats}.",
    "{name} {filename!r} does not exist.": "{filename!r} không tồn tại.",
    "{name} {filename!r} is a file.": "{filename!r} là một tệp.",
    "{name} {filename!r} is a directory.": "{filename!r} là một thư mục.",
    "{name} {filename!r} is not readable.": "Không đọc được {filename!r}.",
    "{name} {filename!r} is not writable.": "Không ghi được vào {filename!r}.",
    "{name} {filename!r} is not executable.": "Không chạy được {filename!r}.",
    "Could not open file {filename!r}: {message}": "Không mở được tệp {filename!r}: {message}",
    "Aborted!": "Đã hủy.",
    "unknown error": "lỗi không rõ",
    "Choose from:\n\t{choices}": "Chọn một trong:\n\t{choices}",
}

# pydantic's error types (the documented way to word its errors otherwise), with its context's {names}
PYDANTIC: dict[str, str] = {
    "missing": "là bắt buộc",
    "extra_forbidden": "không phải khóa đã biết (kiểm tra chính tả và mục của nó)",
    "int_parsing": "phải là số nguyên",
    "int_type": "phải là số nguyên",
    "int_from_float": "phải là số nguyên",
    "float_parsing": "phải là số",
    "float_type": "phải là số",
    "bool_parsing": "phải là true hoặc false",
    "bool_type": "phải là true hoặc false",
    "string_type": "phải là chuỗi ký tự",
    "list_type": "phải là danh sách",
    "dict_type": "phải là một mục (bảng TOML)",
    "model_type": "phải là một mục (bảng TOML)",
    "greater_than": "phải lớn hơn {gt}",
    "greater_than_equal": "phải lớn hơn hoặc bằng {ge}",
    "less_than": "phải nhỏ hơn {lt}",
    "less_than_equal": "phải nhỏ hơn hoặc bằng {le}",
    "string_too_short": "phải dài ít nhất {min_length} ký tự",
    "string_too_long": "dài tối đa {max_length} ký tự",
    "too_short": "phải có ít nhất {min_length} phần tử",
    "too_long": "có tối đa {max_length} phần tử",
    "string_pattern_mismatch": "không đúng dạng {pattern}",
    "enum": "phải là một trong: {expected}",
    "literal_error": "phải là một trong: {expected}",
    "url_parsing": "không phải địa chỉ URL hợp lệ",
    "ip_any_address": "không phải địa chỉ IP hợp lệ",
    "path_type": "không phải đường dẫn hợp lệ",
    "datetime_parsing": "không phải thời điểm hợp lệ",
    "date_parsing": "không phải ngày hợp lệ",
}

# dokiem's own English in configuration errors (validators, file reading), by pattern
PHRASES: tuple[tuple[str, str], ...] = (
    (r"^is required$", "là bắt buộc"),
    (r"^province '(\d*)' has no region folder; known: (.*)$", "không có tỉnh mã {0}; các mã: {1}"),
    (r"^is not a known key \(check its spelling and section\)$", PYDANTIC["extra_forbidden"]),
    (r"^cannot read the file: (.*)$", "không đọc được tệp: {0}"),
    (r"^cannot read (.*): (.*)$", "không đọc được {0}: {1}"),
    (r"^not valid TOML: .*\(at line (\d+), column (\d+)\)$", "không phải TOML hợp lệ (dòng {0}, cột {1})"),
    (r"^not valid TOML: .*$", "không phải TOML hợp lệ"),
    (r"^use mqtt://host:1883 or mqtts://host:8883$", "dùng mqtt://host:1883 hoặc mqtts://host:8883"),
    (r"^(.*) is not HOST:PORT \(e\.g\. (.*)\)$", "{0} không có dạng HOST:PORT (ví dụ {1})"),
    (r"^no file (\S+): make keys with (.*)$", "không có tệp {0}: tạo khóa bằng {1}"),
    (r"^give at least one of (.*)$", "ghi ít nhất một trong {0}"),
    (r"^(\w+) must not exceed (\w+)$", "{0} không được lớn hơn {1}"),
    (r"^(\w+) must be below (\w+)$", "{0} phải nhỏ hơn {1}"),
    (r"^each poor_below_dbm must be below its good_from_dbm$", "mỗi poor_below_dbm phải nhỏ hơn good_from_dbm của nó"),
    (r"^threshold ids must be unique \(got (.*)\)$", "mã ngưỡng (id) phải khác nhau (đang có {0})"),
    (
        r"^measure\.servers: (\S+) is a loopback or link-local address.*$",
        "measure.servers: {0} là địa chỉ loopback hoặc link-local",
    ),
)
WHERE: tuple[tuple[str, str], ...] = (
    (r"environment variable (\S+)", r"biến môi trường \1"),
    (r"\[\[thresholds\]\] number (\d+)", r"[[thresholds]] thứ \1"),
    (r"(^|, |\()key ", r"\1khóa "),
    (r", line (\d+)", r", dòng \1"),
    (r"\(top level\)", "(cấp ngoài cùng)"),
)
GOT = re.compile(r" \(got (.*)\)$")

ERRNO: dict[int, str] = {
    errno.ENOENT: "không có tệp hoặc thư mục này",
    errno.EACCES: "không có quyền truy cập",
    errno.EPERM: "không được phép",
    errno.ENOSPC: "ổ đĩa đã đầy",
    errno.EROFS: "hệ thống tệp chỉ cho đọc",
    errno.EEXIST: "đã tồn tại",
    errno.ENOTDIR: "không phải thư mục",
    errno.EISDIR: "là một thư mục",
    errno.ENOTEMPTY: "thư mục không trống",
    errno.EADDRINUSE: "địa chỉ đang được dùng",
    errno.EADDRNOTAVAIL: "địa chỉ không có trên máy này",
    errno.ECONNREFUSED: "kết nối bị từ chối",
    errno.ETIMEDOUT: "hết thời gian chờ",
    errno.EDQUOT: "vượt hạn mức đĩa",
}


def _system_words(text: str) -> str:
    """A system message (``os.strerror``'s English) in Vietnamese where the table has it."""
    return next((vi for number, vi in ERRNO.items() if os.strerror(number) == text), text)


def os_error_text(exc: OSError, lang: str) -> str:
    """What the system said, in ``lang`` (its own words where no translation is known)."""
    said = exc.strerror or str(exc)
    if lang == "vi" and exc.errno in ERRNO:
        said = ERRNO[exc.errno]
    return f"{exc.filename}: {said}" if exc.filename else said


def problem_text(problem: str, lang: str, kind: str | None = None, ctx: Mapping[str, Any] | None = None) -> str:
    """A configuration problem in ``lang``: by pydantic's error type where it has one, else by dokiem's phrase;
    a value shown ``(got ...)`` stays as it was."""
    if lang != "vi":
        return problem
    got = GOT.search(problem)
    bare = problem[: got.start()] if got else problem
    shown = f" (giá trị: {got.group(1)})" if got else ""
    if kind in PYDANTIC:
        return PYDANTIC[kind].format(**{k: _listed(v) for k, v in (ctx or {}).items()}) + shown
    bare = bare.removeprefix("Value error, ")
    for pattern, vietnamese in PHRASES:
        found = re.match(pattern, bare)
        if found:
            return vietnamese.format(*(_system_words(group) for group in found.groups())) + shown
    return bare + shown


def where_text(where: str, lang: str) -> str:
    if lang != "vi":
        return where
    for pattern, vietnamese in WHERE:
        where = re.sub(pattern, vietnamese, where)
    return where


def _listed(value: Any) -> str:
    text = str(value)
    return text.replace(" or ", " hoặc ")


def _translator(table: Mapping[str, str]) -> Callable[[str], str]:
    def gettext(message: str) -> str:
        return table.get(message, message)

    return gettext


def _plural_translator(table: Mapping[str, str]) -> Callable[[str, str, int], str]:
    def ngettext(singular: str, plural: str, n: int) -> str:
        chosen = singular if n == 1 else plural
        return table.get(chosen, chosen)

    return ngettext


CLICK_MODULES = ("core", "exceptions", "types", "parser", "decorators", "termui", "utils", "formatting")


def speak_click(lang: str) -> None:
    """click's own messages in ``lang``: each click module looks its words up through the ``_`` and ``ngettext`` it
    imported from gettext, which dokiem's command line alone uses in this process."""
    table = CLICK if lang == "vi" else {}
    for name in CLICK_MODULES:
        module = sys.modules.get(f"click.{name}")
        if module is None:
            continue
        if hasattr(module, "_"):
            module._ = _translator(table)  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _plural_translator(table)  # type: ignore[attr-defined]
