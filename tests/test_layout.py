"""The package boundaries ARCHITECTURE.md draws, held by a scan of every import in the source tree,
and the agent installed alone (no extras) into a fresh virtualenv, as on a Pi."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("dokiem", "agent", "collector", "testserver", "reports", "admin", "grafana")
COMPOSITION_ROOT = "dokiem.up"
# What each package may import of the others (itself always). None of them may import `agent`,
# except the composition root; the core imports none of them.
ALLOWED: dict[str, set[str]] = {
    "dokiem": set(),
    "agent": {"dokiem"},
    "collector": {"dokiem"},
    "testserver": {"dokiem"},
    "admin": {"dokiem", "collector.archive", "collector.config"},
    "reports": {"dokiem", "collector.archive", "collector.config"},
    "grafana": {"dokiem", "collector.archive", "collector.config"},
}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
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
    return {name for name in names if name.split(".")[0] in PACKAGES}


def allowed(importer: str, imported: str) -> bool:
    home = importer.split(".")[0]
    target = imported.split(".")[0]
    if target == home:
        return True
    return any(imported == rule or imported.startswith(rule + ".") for rule in ALLOWED[home])


def test_every_import_stays_inside_the_boundaries() -> None:
    found = modules()
    broken = []
    for name, path in found.items():
        if name == COMPOSITION_ROOT:
            continue
        for imported in sorted(imports_of(path)):
            # `from collector import config` names a module: judge the module, not the package
            module = imported if imported in found else imported.rsplit(".", 1)[0]
            if not allowed(name, module):
                broken.append(f"{name} imports {imported}")
    assert broken == []


def test_the_scan_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "x.py"
    bad.write_text("def f():\n    from collector.service import Collector\n    import agent.probes\n")
    assert imports_of(bad) == {"collector.service", "collector.service.Collector", "agent.probes"}
    assert not allowed("reports.cli", "collector.service") and not allowed("collector.api", "agent.probes")
    assert allowed("reports.cli", "collector.archive") and allowed("agent.cli", "dokiem.contract")


def test_only_the_composition_root_imports_the_agent() -> None:
    importers = {name for name, path in modules().items() if any(i.split(".")[0] == "agent" for i in imports_of(path))}
    assert {name for name in importers if not name.startswith("agent")} == {COMPOSITION_ROOT}


@pytest.fixture(scope="module")
def agent_alone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dokiem installed as a Pi installs it: `pip install .`, no extras, in a fresh virtualenv."""
    home = tmp_path_factory.mktemp("agent-alone")
    # a copy, so that setuptools' build/ folder neither lands in the work tree nor brings stale modules
    source = home / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "bench"))
    venv.create(home / "venv", with_pip=True)
    pip = [str(home / "venv/bin/python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, str(source)], check=True, timeout=900, cwd=home)
    return home / "venv/bin/dokiem"


def run(dokiem: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": os.environ["PATH"], "HOME": str(dokiem.parent), **(env or {})}
    return subprocess.run([str(dokiem), *args], capture_output=True, text=True, timeout=120, env=environ,
                          cwd=dokiem.parent)  # fmt: skip


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
        assert shown.returncode == 0 and "Usage:" in shown.stdout and "Traceback" not in shown.stderr, name


@pytest.mark.slow
@pytest.mark.parametrize("command", [["testserver"], ["collector", "run"], ["report", "quarterly"],
                                     ["grafana", "build"], ["up"]])  # fmt: skip
def test_a_server_command_says_which_extra_to_install(agent_alone: Path, command: list[str]) -> None:
    refused = run(agent_alone, "--lang", "en", *command)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    (line,) = refused.stderr.strip().splitlines()
    assert "pip install 'dokiem[collector]'" in line
