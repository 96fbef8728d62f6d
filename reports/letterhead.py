"""What the department writes on the report it signs: issuing body, number, signer, recipients.

A small TOML file (``--letterhead FILE``; ``deploy/report-letterhead.example.toml`` is a filled-in
example); every key is optional, and what is left empty stays a blank for the office to fill in
Word, as on any draft (``Số:      /BC-SKHCN``). The layout follows Decree 30/2020/NĐ-CP.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dokiem.contract import first_error
from dokiem.settings import ConfigError


class Letterhead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parent: str = Field(default="UBND TỈNH THANH HÓA", max_length=200, description="the issuing body's parent")
    body: str = Field(default="SỞ KHOA HỌC VÀ CÔNG NGHỆ", max_length=200, description="the issuing body")
    abbreviation: str = Field(default="SKHCN", max_length=40, description="in the number: …/BC-SKHCN")
    number: str = Field(default="", max_length=20, description="empty: left blank for the office")
    place: str = Field(default="Thanh Hóa", max_length=100, description="where it is signed")
    date: str = Field(default="", max_length=40, description="dd/mm/yyyy, or empty: left blank")
    signer_authority: str = Field(default="KT. GIÁM ĐỐC", max_length=100, description="e.g. KT. GIÁM ĐỐC, or empty")
    signer_title: str = Field(default="PHÓ GIÁM ĐỐC", max_length=100)
    signer_name: str = Field(default="", max_length=100)
    recipients: list[str] = Field(
        default_factory=lambda: [
            "Bộ Khoa học và Công nghệ (để báo cáo);",
            "UBND tỉnh (để báo cáo);",
            "Cục Viễn thông;",
            "Lưu: VT, BCVT.",
        ],
        max_length=30,
    )


def load_letterhead(path: Path | None) -> Letterhead:
    """The file's letterhead, or the defaults; ConfigError names the file and the key."""
    if path is None:
        return Letterhead()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read the file: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), f"not valid TOML: {exc}") from exc
    try:
        return Letterhead.model_validate(data)
    except ValidationError as exc:
        error = first_error(exc)
        raise ConfigError(f"{path}, key {error.where or '(top level)'}", error.message, error.kind, error.ctx) from None
