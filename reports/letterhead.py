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
from dokiem.regions import Province
from dokiem.settings import ConfigError

DEPARTMENT = "Sở Khoa học và Công nghệ"  # the provincial department that measures, reports and publishes


def department_of(province: Province) -> str:
    """The department of ``province`` as its open data credits it: "Sở Khoa học và Công nghệ tỉnh Thanh Hóa"."""
    return f"{DEPARTMENT} {province.in_text}"


class Letterhead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parent: str | None = Field(
        default=None, max_length=200, description="the issuing body's parent (unset: UBND and the province's name)"
    )
    body: str = Field(default=DEPARTMENT.upper(), max_length=200, description="the issuing body")
    abbreviation: str = Field(default="SKHCN", max_length=40, description="in the number: …/BC-SKHCN")
    number: str = Field(default="", max_length=20, description="empty: left blank for the office")
    place: str | None = Field(default=None, max_length=100, description="where it is signed (unset: the province)")
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

    def for_province(self, province: Province | None) -> Letterhead:
        """The letterhead with what it leaves unset taken from the report's province."""
        parent = self.parent if self.parent is not None else f"UBND {province.full_name}" if province else ""
        place = self.place if self.place is not None else province.name if province else ""
        return self.model_copy(update={"parent": parent, "place": place})


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
