"""The package boundaries ARCHITECTURE.md draws, held by a scan of every import in the source tree,
and the agent installed alone (no extras) into a fresh virtualenv, as on a Pi."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import tomllib
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The rooms, each a folder at the top of the repository, installed as dokiem.<room>; the rest of
# dokiem/ is the core.
ROOMS = ("agent", "collector", "testserver", "reports", "admin", "grafana")
CORE = "dokiem"
COMPOSITION_ROOT = "dokiem.up"
# What each room may import of the others (itself always). None of them may import the agent,
# except the composition root; the core imports none of them.
ALLOWED: dict[str, set[str]] = {
    CORE: set(),
    "dokiem.agent": {CORE},
    "dokiem.collector": {CORE},
    "dokiem.testserver": {CORE},
    "dokiem.admin": {CORE, "dokiem.collector.archive", "dokiem.collector.config"},
    "dokiem.reports": {CORE, "dokiem.collector.archive", "dokiem.collector.config"},
    "dokiem.grafana": {CORE, "dokiem.collector.archive", "dokiem.collector.config"},
}


def room_of(module: str) -> str:
    """``dokiem.agent`` for ``dokiem.agent.probes.http``; the core for ``dokiem.contract``."""
    parts = module.split(".")
    return f"{CORE}.{parts[1]}" if len(parts) > 1 and parts[0] == CORE and parts[1] in ROOMS else CORE


def modules() -> dict[str, Path]:
    """Every module by its installed name: the core's files (not the links to the rooms) and each room's."""
    found = {}
    for folder, prefix in ((ROOT / CORE, (CORE,)), *((ROOT / room, (CORE, room)) for room in ROOMS)):
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if prefix == (CORE,) and parts[0] in ROOMS:
                continue
            name = (*prefix, *(parts[:-1] if parts[-1] == "__init__" else parts))
            found[".".join(name)] = path
    return found


def imports_of(path: Path) -> set[str]:
    """Every project module a file imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.split(".")[0] == CORE}


def allowed(importer: str, imported: str) -> bool:
    home, target = room_of(importer), room_of(imported)
    if target == home:
        return True
    if target == CORE:
        return CORE in ALLOWED[home]
    return any(imported == rule or imported.startswith(rule + ".") for rule in ALLOWED[home] - {CORE})


def test_every_import_stays_inside_the_boundaries() -> None:
    found = modules()
    broken = []
    for name, path in found.items():
        if name == COMPOSITION_ROOT:
            continue
        for imported in sorted(imports_of(path)):
            # `from dokiem.collector import config` names a module: judge the module, not the package
            module = imported if imported in found else imported.rsplit(".", 1)[0]
            if not allowed(name, module):
                broken.append(f"{name} imports {imported}")
    assert broken == []


def test_the_scan_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "x.py"
    bad.write_text("def f():\n    from dokiem.collector.service import Collector\n    import dokiem.agent.probes\n")
    assert imports_of(bad) == {"dokiem.collector.service", "dokiem.collector.service.Collector", "dokiem.agent.probes"}
    assert not allowed("dokiem.reports.cli", "dokiem.collector.service")
    assert not allowed("dokiem.collector.api", "dokiem.agent.probes")
    assert not allowed("dokiem.contract", "dokiem.collector.archive")  # the core imports no room
    assert allowed("dokiem.reports.cli", "dokiem.collector.archive")
    assert allowed("dokiem.agent.cli", "dokiem.contract")


def test_only_the_composition_root_imports_the_agent() -> None:
    importers = {name for name, path in modules().items()
                 if any(room_of(i) == "dokiem.agent" for i in imports_of(path))}  # fmt: skip
    assert {name for name in importers if room_of(name) != "dokiem.agent"} == {COMPOSITION_ROOT}


def test_the_build_installs_every_package_of_the_tree() -> None:
    """A folder with an ``__init__.py`` that pyproject.toml does not list would be missing from the wheel."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    packages = {name for name, path in modules().items() if path.name == "__init__.py"}
    assert packages == listed


@pytest.fixture(scope="module")
def agent_alone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dokiem installed as a Pi installs it: `pip install .`, no extras, in a fresh virtualenv."""
    home = tmp_path_factory.mktemp("agent-alone")
    # a copy, so that setuptools' build/ folder neither lands in the work tree nor brings stale modules
    source = home / "source"
    ignored = shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "bench")
    shutil.copytree(ROOT, source, symlinks=True, ignore=ignored)
    venv.create(home / "venv", with_pip=True)
    pip = [str(home / "venv/bin/python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, str(source)], check=True, timeout=900, cwd=home)
    return home / "venv/bin/dokiem"


def run(dokiem: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": os.environ["PATH"], "HOME": str(dokiem.parent), **(env or {})}
    return subprocess.run([str(dokiem), *args], capture_output=True, text=True, timeout=120, env=environ,
                          cwd=dokiem.parent)  # fmt: skip


@pytest.mark.slow
def test_the_install_puts_only_dokiem_into_site_packages(agent_alone: Path) -> None:
    """Beside any package named ``agent`` or ``grafana`` (PyPI has both), dokiem takes no other name."""
    (site,) = (agent_alone.parent.parent / "lib").glob("python3*/site-packages")
    (record,) = site.glob("dokiem-*.dist-info/RECORD")
    top = {Path(line.split(",")[0]).parts[0] for line in record.read_text().splitlines()}
    assert {name for name in top if name not in ("dokiem", "..")} == {record.parent.name}
    installed = {path.name for path in site.iterdir()}
    assert not installed & {"agent", "collector", "testserver", "reports", "admin", "grafana"}
    assert {p.name for p in (site / "dokiem").iterdir() if p.is_dir()} >= {*ROOMS, "regions", "schema"}


@pytest.mark.slow
def test_the_agent_installs_and_runs_without_the_collector_extra(agent_alone: Path) -> None:
    python = agent_alone.parent / "python"
    collector_libs = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print([m for m in ('aiohttp', 'numpy', 'reportlab',"
         " 'xlsxwriter', 'psycopg', 'amqtt', 'grafana_foundation_sdk', 'matplotlib', 'docx')"
         " if u.find_spec(m)])"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert collector_libs.stdout.strip() == "[]"
    assert run(agent_alone, "measure", "--help").returncode == 0
    check = run(agent_alone, "agent", "check", env={"DOKIEM_AGENT_ID": "th-380-001",
                                                    "DOKIEM_SERVERS": "http://test.example.vn/"})  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert "th-380-001" in check.stdout and "Traceback" not in check.stderr
    listed = run(agent_alone, "agent", "--help").stdout
    subcommands = {"run", "once", "check", "status", "update", "enroll", "revoke"}
    assert all(name in listed for name in subcommands)
    for name in sorted(subcommands):
        shown = run(agent_alone, "agent", name, "--help")
        assert shown.returncode == 0 and "Cách dùng:" in shown.stdout and "Traceback" not in shown.stderr, name


@pytest.mark.slow
@pytest.mark.parametrize("command", [["testserver"], ["collector", "run"], ["report", "quarterly"],
                                     ["grafana", "build"], ["up"]])  # fmt: skip
def test_a_server_command_says_which_extra_to_install(agent_alone: Path, command: list[str]) -> None:
    refused = run(agent_alone, "--lang", "en", *command)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    (line,) = refused.stderr.strip().splitlines()
    assert "pip install 'dokiem[collector]'" in line
