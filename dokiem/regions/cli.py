"""``dokiem regions list|show|check``: the department looks codes up and checks its own list.

``check`` reads a CSV as the department keeps it (UTF-8, with or without BOM; the code and name
columns under dokiem's names or the statistics office's Vietnamese headers "Mã", "Tên") and lists
every code missing, extra or spelled differently against the shipped list. Exit 0 when they agree,
1 when they differ, 2 when the file cannot be read.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click

from dokiem.collation import collation_key, normal_name, unit_key
from dokiem.contract import LOCAL_TIME
from dokiem.i18n import Translator
from dokiem.regions import Province, Regions, UnknownProvince, UnknownRegion

CODE_HEADERS = ("commune_code", "code", "ma", "mã", "mã xã", "ma_xa")
NAME_HEADERS = ("name", "ten", "tên", "tên xã", "ten_xa")

regions_dir_option = click.option(
    "--regions-dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
    envvar="DOKIEM_COLLECTOR_REGIONS_DIR", help="More province folders, as the collector's collector.regions_dir.",
)  # fmt: skip
province_option = click.option(
    "--province", envvar="DOKIEM_COLLECTOR_PROVINCE",
    help="The province's two-digit code (default: the collector's collector.province; dokiem regions provinces).",
)  # fmt: skip
era_option = click.option("--before-reform", is_flag=True, help="The list before 2025-07-01 (with districts).")


@click.group("regions")
def regions_group() -> None:
    """Communes since 2025-07-01, the pre-reform list and the former districts, as dokiem files results."""


def _province(regions_dir: Path | None, code: str | None, tr: Translator) -> Province:
    try:
        regions = Regions.for_config(regions_dir, code)
    except UnknownProvince:
        regions = Regions.for_config(regions_dir)
        raise click.BadParameter(tr("rg_unknown_province", code=code, known=_known(regions)),
                                 param_hint="--province") from None  # fmt: skip
    if len(regions.provinces) != 1:
        raise click.BadParameter(tr("rg_which_province", known=_known(regions)), param_hint="--province")
    return next(iter(regions.provinces.values()))


def _known(regions: Regions) -> str:
    return ", ".join(f"{p.code} {p.name}" for p in sorted(regions.provinces.values(), key=lambda p: p.code))


@regions_group.command("provinces")
@regions_dir_option
@click.pass_obj
def provinces_command(tr: Translator, regions_dir: Path | None) -> None:
    """Every province dokiem has: code, name, units since the reform, and whether it has the former districts."""
    regions = Regions.for_config(regions_dir)
    for province in sorted(regions.provinces.values(), key=lambda p: collation_key(p.name)):
        districts = tr("rg_with_districts", count=len(province.districts)) if province.districts else ""
        click.echo(f"{province.code}\t{province.full_name}\t{tr.number(len(province.communes), 0)}\t{districts}")
    click.echo(tr("rg_provinces", count=len(regions.provinces)), err=True)


@regions_group.command("list")
@province_option
@click.option("--district", help="Only the communes of this former district (code).")
@era_option
@regions_dir_option
@click.pass_obj
def list_command(
    tr: Translator, province: str | None, district: str | None, before_reform: bool, regions_dir: Path | None
) -> None:
    """Every commune: code, name and former district (with --before-reform: the old list and where each
    unit went)."""
    known = _province(regions_dir, province, tr)
    if district is not None and district not in known.districts:
        raise click.BadParameter(tr("rg_unknown_district", code=district, province=known.name), param_hint="--district")
    shown = 0
    if before_reform:
        for old in sorted(known.old_communes.values(), key=lambda u: unit_key(u.name)):
            if district in (None, old.district):
                into = ", ".join(old.successors) or "–"
                click.echo(f"{old.code}\t{old.name}\t{_district(known, old.district)}\t→ {into}")
                shown += 1
    else:
        for unit in sorted(known.communes.values(), key=lambda u: unit_key(u.name)):
            if district is None or district in unit.districts:
                click.echo(f"{unit.code}\t{unit.name}\t{', '.join(_district(known, d) for d in unit.districts)}")
                shown += 1
    click.echo(tr("rg_listed", count=shown, province=known.name), err=True)


def _district(province: Province, code: str) -> str:
    district = province.districts.get(code)
    return f"{district.name} ({code})" if district else code


@regions_group.command("show")
@click.argument("code")
@province_option
@click.option("--at", type=click.DateTime(["%Y-%m-%d"]), help="Read the code as a result of this day would be.")
@regions_dir_option
@click.pass_obj
def show_command(
    tr: Translator, code: str, province: str | None, at: datetime | None, regions_dir: Path | None
) -> None:
    """What a commune code names in each era, and where a result under it is filed."""
    known = _province(regions_dir, province, tr)
    if code not in known.communes and code not in known.old_communes:
        raise click.BadParameter(tr("rg_unknown_code", code=code, province=known.name), param_hint="CODE")
    if (unit := known.communes.get(code)) is not None:
        click.echo(tr("rg_since_reform", code=code, name=unit.name, area=tr.number(unit.area_km2 or 0, 2)))
        for district in unit.districts:
            share = sum(1 for old in unit.merged if known.old_communes[old].district == district)
            click.echo("  " + tr("rg_former_district", district=_district(known, district), units=share))
        for merged in unit.merged:
            click.echo(f"    {merged}\t{known.old_communes[merged].name}")
    if (old := known.old_communes.get(code)) is not None:
        into = ", ".join(f"{c} ({known.communes[c].name})" for c in old.successors) or tr("rg_no_successor")
        click.echo(tr("rg_before_reform", code=code, name=old.name, district=_district(known, old.district), into=into))
    moment = (at or datetime.now()).replace(tzinfo=LOCAL_TIME)
    try:
        place = Regions([known]).place(known.code, None, code, moment)
    except UnknownRegion as exc:  # not reachable for a listed code; kept for a department's own files
        raise click.ClickException(str(exc)) from None
    if place.commune is not None:
        where = f"{place.commune_name} ({place.commune})"
    else:
        where = tr("rg_ambiguous", among=", ".join(place.candidates))
    day = f"{moment:%d/%m/%Y}" if tr.lang == "vi" else f"{moment:%Y-%m-%d}"
    click.echo(tr("rg_filed", day=day, commune=where, district=_district(known, place.district or "")))


@dataclass(frozen=True)
class Listed:
    line: int
    code: str
    name: str


def _norm(text: str) -> str:
    """Names compared as written once (dokiem.collation.normal_name): "Hoà" and "Hòa" are one name."""
    return normal_name(text)


def read_list(path: Path) -> list[Listed]:
    """The department's CSV: a code and a name per row; ValueError says what is wrong and where."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text (byte {exc.start}); save it as CSV UTF-8") from None
    rows = csv.reader(text.splitlines())
    header = [_norm(h).lower() for h in next(rows, [])]
    code_at = next((header.index(h) for h in CODE_HEADERS if h in header), None)
    name_at = next((header.index(h) for h in NAME_HEADERS if h in header), None)
    if code_at is None or name_at is None:
        raise ValueError(f"{path}, line 1: need a code column ({', '.join(CODE_HEADERS[:3])}) and a name column"
                         f" ({', '.join(NAME_HEADERS[:3])}); found {', '.join(header) or 'nothing'}")  # fmt: skip
    listed = []
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(code_at, name_at):
            raise ValueError(f"{path}, line {number}: {len(row)} columns, the header has {len(header)}")
        listed.append(Listed(number, row[code_at].strip(), _norm(row[name_at])))
    return listed


@regions_group.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@province_option
@era_option
@regions_dir_option
@click.pass_obj
def check_command(
    tr: Translator, file: Path, province: str | None, before_reform: bool, regions_dir: Path | None
) -> None:
    """Compare the department's list (CSV: code and name) with the one dokiem files results by."""
    known = _province(regions_dir, province, tr)
    try:
        listed = read_list(file)
    except (ValueError, OSError) as exc:
        click.echo(tr("rg_unreadable", problem=exc), err=True)
        raise SystemExit(2) from None
    shipped = {c.code: c.name for c in (known.old_communes if before_reform else known.communes).values()}
    theirs: dict[str, Listed] = {}
    differences = 0
    for row in listed:
        if row.code in theirs:
            click.echo(tr("rg_duplicate", line=row.line, code=row.code, first=theirs[row.code].line))
            differences += 1
        theirs.setdefault(row.code, row)
    for code, name in shipped.items():
        if code not in theirs:
            click.echo(tr("rg_missing", code=code, name=name))
            differences += 1
        elif theirs[code].name != _norm(name):
            click.echo(tr("rg_renamed", line=theirs[code].line, code=code, theirs=theirs[code].name, ours=name))
            differences += 1
    for row in theirs.values():
        if row.code not in shipped:
            click.echo(tr("rg_extra", line=row.line, code=row.code, name=row.name))
            differences += 1
    click.echo(tr("rg_checked", rows=len(listed), shipped=len(shipped), differences=differences), err=True)
    if differences:
        raise SystemExit(1)
