"""LibreSpeed's stock PHP backend served the three ways test points deploy it, each a private
instance on a free port, from Debian's own packages: PHP's built-in server (``php -S``), Apache
with mod_php (prefork, keep-alive on) and nginx with php-fpm (FastCGI over a Unix socket).

The document root lives under a world-readable folder (Apache's and php-fpm's workers run as
www-data, not root) and holds ``backend/`` exactly as ``../shared/librespeed/`` ships it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from testkit.processes import REPO, free_port

STOCK = REPO.parent / "shared" / "librespeed" / "backend"
APACHE_MODULES = Path("/usr/lib/apache2/modules")
WORKER = "www-data"


def _docroot() -> Path:
    assert (STOCK / "garbage.php").exists(), f"LibreSpeed's backend is missing at {STOCK}"
    folder = Path(tempfile.mkdtemp(prefix="dokiem-web-"))
    folder.chmod(0o755)
    shutil.copytree(STOCK, folder / "www" / "backend")
    for path in (folder / "www", *(folder / "www").rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return folder


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Where:
    """Where a server runs: the address it listens on, a command prefix (``ip netns exec NS`` in the lab),
    and how to tell from outside that a URL answers."""

    host: str = "127.0.0.1"
    prefix: tuple[str, ...] = ()
    reachable: Callable[[str], bool] = answers
    env: tuple[tuple[str, str], ...] = ()


HERE = Where()


def _wait_up(url: str, process: subprocess.Popen[bytes], log: Path, where: Where) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"the server exited: {log.read_text(errors='replace')[-2000:] if log.exists() else ''}"
            )
        if where.reachable(url):
            return
        time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@contextmanager
def _process(command: list[str], url: str, log: Path, where: Where = HERE) -> Iterator[None]:
    tool = shutil.which(command[0]) or command[0]
    assert Path(tool).exists(), f"{command[0]} is missing: the README's test command installs it"
    env = {**os.environ, **dict(where.env)}
    with log.open("ab") as out:
        # its own session: Apache stops its children by signalling its whole process group
        process = subprocess.Popen([*where.prefix, tool, *command[1:]], stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True, env=env)  # fmt: skip
    try:
        _wait_up(url, process, log, where)
        yield
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def php_builtin(where: Where = HERE) -> Iterator[str]:
    root, port = _docroot(), free_port()
    url = f"http://{where.host}:{port}/"
    with _process(["php", "-S", f"{where.host}:{port}", "-t", str(root / "www")], f"{url}backend/empty.php",
                  root / "php.log", where):  # fmt: skip
        yield url
    shutil.rmtree(root, ignore_errors=True)


@contextmanager
def apache_mod_php(where: Where = HERE) -> Iterator[str]:
    root, port = _docroot(), free_port()
    modules = "\n".join(f"LoadModule {name} {APACHE_MODULES / so}" for name, so in (
        ("mpm_prefork_module", "mod_mpm_prefork.so"), ("authz_core_module", "mod_authz_core.so"),
        ("mime_module", "mod_mime.so"), ("dir_module", "mod_dir.so"), ("php_module", "libphp8.2.so")))  # fmt: skip
    (root / "apache2.conf").write_text(f"""{modules}
ServerName localhost
ServerRoot {root}
Listen {where.host}:{port}
PidFile {root}/apache.pid
DefaultRuntimeDir {root}
Mutex file:{root}
ErrorLog {root}/apache.log
User {WORKER}
Group {WORKER}
TypesConfig /etc/mime.types
DocumentRoot {root}/www
KeepAlive On
MaxKeepAliveRequests 1000
StartServers 4
MaxRequestWorkers 32
<FilesMatch "\\.php$">
    SetHandler application/x-httpd-php
</FilesMatch>
""")
    url = f"http://{where.host}:{port}/"
    with _process(["apache2", "-f", str(root / "apache2.conf"), "-DFOREGROUND"], f"{url}backend/empty.php",
                  root / "apache.log", where):  # fmt: skip
        yield url
    shutil.rmtree(root, ignore_errors=True)


def _nginx_conf(root: Path, workers: int, connections: int, http: str) -> None:
    """``root``/nginx.conf for an nginx run by a test, everything it writes under ``root``, with ``http``
    inside its http { } block."""
    for folder in ("body", "fastcgi", "proxy", "uwsgi", "scgi"):
        (root / folder).mkdir()
    (root / "nginx.conf").write_text(f"""daemon off;
pid {root}/nginx.pid;
error_log {root}/nginx.log;
worker_processes {workers};
events {{ worker_connections {connections}; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    fastcgi_temp_path {root}/fastcgi;
    proxy_temp_path {root}/proxy;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;{http}
}}
""")


@contextmanager
def nginx_php_fpm(where: Where = HERE) -> Iterator[str]:
    root, port = _docroot(), free_port()
    fpm = next(iter(sorted(Path("/usr/sbin").glob("php-fpm*"))), Path("/usr/sbin/php-fpm"))
    (root / "fpm.conf").write_text(f"""[global]
pid = {root}/fpm.pid
error_log = {root}/fpm.log
daemonize = no
[www]
user = {WORKER}
group = {WORKER}
listen = {root}/fpm.sock
listen.owner = {WORKER}
listen.group = {WORKER}
listen.mode = 0666
pm = static
pm.max_children = 12
""")
    _nginx_conf(
        root,
        2,
        256,
        f"""
    client_max_body_size 64m;
    keepalive_requests 1000;
    server {{
        listen {where.host}:{port};
        root {root}/www;
        location ~ \\.php$ {{
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_pass unix:{root}/fpm.sock;
            fastcgi_buffering off;
        }}
    }}""",
    )
    url = f"http://{where.host}:{port}/"
    with ExitStack() as stack:
        stack.enter_context(_process([str(fpm), "-F", "-y", str(root / "fpm.conf")], "file:///dev/null",
                                     root / "fpm.log", replace(where, reachable=answers)))  # fmt: skip
        stack.enter_context(_process(["nginx", "-c", str(root / "nginx.conf")], f"{url}backend/empty.php",
                                     root / "nginx.log", where))  # fmt: skip
        yield url
    shutil.rmtree(root, ignore_errors=True)


NGINX_FRONT = REPO / "deploy" / "nginx"


@contextmanager
def nginx_in_front(collector: str, workers: int = 1, access_log: Path | None = None) -> Iterator[str]:
    """nginx with dokiem's shipped zones and locations (deploy/nginx) in front of the collector's HTTP at
    ``collector`` (host:port), as deploy/nginx/dokiem-site.conf puts it, without TLS; yields its URL. With
    ``access_log``, the server's requests are logged there, as a distribution's nginx logs them by default."""
    root, port = Path(tempfile.mkdtemp(prefix="dokiem-nginx-")), free_port()
    _nginx_conf(
        root,
        workers,
        1024,
        f"""
    include {NGINX_FRONT}/dokiem-zones.conf;
    upstream dokiem_collector {{ server {collector}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        access_log {access_log or "off"};
        include {NGINX_FRONT}/dokiem-locations.conf;
    }}""",
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        with _process(["nginx", "-c", str(root / "nginx.conf")], f"{url}healthz", root / "nginx.log"):
            yield url
    finally:
        shutil.rmtree(root, ignore_errors=True)


SERVERS: dict[str, Callable[..., AbstractContextManager[str]]] = {
    "php -S": php_builtin,
    "apache + mod_php": apache_mod_php,
    "nginx + php-fpm": nginx_php_fpm,
}
