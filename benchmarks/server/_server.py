"""Shared plumbing of the server workloads: start a tracking server, measure it, talk HTTP to it.

:func:`running_server` starts ``mltrail server`` or ``mlflow server`` (the console script of
the benchmark environment, in its own process group) on a free 127.0.0.1 port with an SQLite
backend and a local artifact destination, waits for ``GET /health`` to answer 200 and stops
the whole process group afterwards.  :meth:`Server.rss_mb` sums the resident memory of every
process of that group (MLflow runs its web server and job consumers as child processes).
:class:`Http` is one kept-alive ``http.client`` connection with JSON in and out: both servers
are measured through the same client, so client-side costs are equal.

With ``auth`` (:data:`AUTH_MODES`, the workloads' ``--auth``) the server runs as
``<tool> server --app-name basic-auth`` with an ini file in the temporary directory, named by
``MLFLOW_AUTH_CONFIG_PATH`` (both tools read it; mltrail also by ``MLTRAIL_AUTH_CONFIG_PATH``):
``[mlflow]`` ``admin_username = admin``, a random ``admin_password``, ``default_permission``
(``READ``; ``NO_PERMISSIONS`` in mode ``restricted``) and, for MLflow only, ``database_uri`` an
SQLite file of its own (mltrail keeps users and grants in the tracking database, its default);
MLflow also needs ``MLFLOW_FLASK_SERVER_SECRET_KEY`` (a random one) to start its auth app.
Once ``/health`` answers, the admin creates the user ``bench`` through ``POST
/api/2.0/mlflow/users/create`` (the same request for both tools); in mode ``user`` the admin
also grants it MANAGE on experiment 0 (``POST /api/3.0/mlflow/users/permissions/grant``), so
workloads that use the default experiment may write there.  Every :class:`Http` then sends
HTTP Basic credentials: the non-admin ``bench`` (modes ``user`` and ``restricted``: admins
skip permission checks in both tools, which would hide their cost) or the admin (``admin``).
Experiments a workload creates belong to its caller (the creator is granted MANAGE).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

START_TIMEOUT_S = 180.0
#: ``--auth`` of the server workloads: no authentication; as the admin; as the non-admin user
#: ``bench`` (default permission READ, MANAGE on experiment 0); as ``bench`` with default
#: permission NO_PERMISSIONS and no grants (the workload grants what it needs).
AUTH_MODES = ("none", "admin", "user", "restricted")
BENCH_USER = "bench"
ADMIN_USER = "admin"
Credentials = tuple[str, str]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_command(
    tool: str, store_uri: str, artifacts: Path, port: int, workers: int, auth: bool = False
) -> list[str]:
    """The command line a user types (console script of this environment)."""
    script = str(Path(sys.executable).with_name(tool))
    return [
        script,
        "server",
        *(["--app-name", "basic-auth"] if auth else []),
        "--backend-store-uri",
        store_uri,
        "--artifacts-destination",
        str(artifacts.resolve()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def group_pids(pgid: int) -> list[int]:
    """Every live process whose process group is *pgid* (Linux /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
            pids.append(int(entry))
    return pids


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Server:
    tool: str
    url: str
    port: int
    pgid: int
    start_s: float
    #: Who :class:`Http` calls as by default (None: no authentication).
    credentials: Credentials | None = None
    #: The admin's credentials when the server authenticates.
    admin: Credentials | None = None

    def rss_mb(self) -> float:
        """Resident memory summed over the server's processes, in MB (10^6 bytes)."""
        return sum(rss_kib(pid) for pid in group_pids(self.pgid)) * 1024 / 1e6

    def processes(self) -> int:
        return len(group_pids(self.pgid))


class RssSampler:
    """Samples a server's summed RSS in a thread; ``peak_mb`` is the largest sample."""

    def __init__(self, server: Server, interval_s: float = 0.05) -> None:
        self.server = server
        self.interval_s = interval_s
        self.peak_mb = server.rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak_mb = max(self.peak_mb, self.server.rss_mb())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self.server.rss_mb())


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLTRAIL_", "MLFLOW_"))}
    env.pop("PYTHONPATH", None)  # the servers import the installed packages only
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # byte code cached as on a user's machine
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    return env


def write_auth_config(tool: str, tmp: Path, password: str, default_permission: str) -> Path:
    """The ini file of ``--app-name basic-auth`` (MLflow's keys, see the module's doc)."""
    lines = [
        "[mlflow]",
        f"default_permission = {default_permission}",
        f"admin_username = {ADMIN_USER}",
        f"admin_password = {password}",
    ]
    if tool == "mlflow":  # mltrail: unset, the tracking database (its default)
        lines.append(f"database_uri = sqlite:///{(tmp / 'basic_auth.db').resolve()}")
    path = tmp / "basic_auth.ini"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _set_up_users(server: Server, mode: str) -> None:
    """As the admin: create the non-admin user ``bench``; mode ``user``: MANAGE on
    experiment 0 for it."""
    assert server.admin is not None
    assert server.credentials is not None
    admin = Http(server, credentials=server.admin)
    if mode != "admin":
        name, password = server.credentials
        admin.call("POST", "users/create", {"username": name, "password": password})
    if mode == "user":
        grant(admin, "experiment", "0", "MANAGE")
    admin.close()


def grant(admin: Http, resource_type: str, resource_id: str, permission: str) -> None:
    """As the admin: grant ``bench`` *permission* on a resource (MLflow's 3.0 users API)."""
    body = {
        "username": BENCH_USER,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "permission": permission,
    }
    admin.call("POST", "users/permissions/grant", body, version="3.0")


@contextmanager
def running_server(
    tool: str,
    tmp: Path,
    *,
    store_uri: str | None = None,
    workers: int = 1,
    auth: str = "none",
) -> Iterator[Server]:
    """Start the tool's server; yield it once /health answered 200 (and, with *auth*, its
    users exist); stop its process group."""
    if auth not in AUTH_MODES:
        raise ValueError(f"auth must be one of {AUTH_MODES}, not {auth!r}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    store_uri = store_uri or f"sqlite:///{(tmp / 'server.db').resolve()}"
    artifacts = tmp / "server-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    env = _environment()
    admin: Credentials | None = None
    credentials: Credentials | None = None
    if auth != "none":
        admin = (ADMIN_USER, secrets.token_urlsafe(16))
        default = "NO_PERMISSIONS" if auth == "restricted" else "READ"
        config = write_auth_config(tool, tmp, admin[1], default)
        env["MLFLOW_AUTH_CONFIG_PATH"] = env["MLTRAIL_AUTH_CONFIG_PATH"] = str(config.resolve())
        if tool == "mlflow":  # its auth app refuses to start without one (CSRF of its UI)
            env["MLFLOW_FLASK_SERVER_SECRET_KEY"] = secrets.token_hex(32)
        credentials = admin if auth == "admin" else (BENCH_USER, secrets.token_urlsafe(16))
    log = (tmp / f"server-{tool}.log").open("ab")
    start = time.perf_counter()
    proc = subprocess.Popen(
        server_command(tool, store_uri, artifacts, port, workers, auth != "none"),
        cwd=tmp,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{tool} server exited with {proc.returncode}: see its log")
            if time.perf_counter() - start > START_TIMEOUT_S:
                raise RuntimeError(f"{tool} server did not answer within {START_TIMEOUT_S:.0f} s")
            try:
                with urllib.request.urlopen(url + "/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.01)
        server = Server(tool, url, port, proc.pid, time.perf_counter() - start, credentials, admin)
        if auth != "none":
            _set_up_users(server, auth)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever of the group is left
        proc.wait(15)
        log.close()


def basic(credentials: Credentials) -> str:
    """The ``Authorization`` header's value for HTTP Basic."""
    return "Basic " + base64.b64encode(":".join(credentials).encode()).decode("ascii")


class Http:
    """One kept-alive HTTP/1.1 connection; JSON requests under ``/api/2.0/mlflow/``, with
    HTTP Basic credentials (*credentials*, default the server's) when the server has them."""

    def __init__(
        self, server: Server, timeout: float = 600, credentials: Credentials | None = None
    ) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
        self.headers = {"Content-Type": "application/json", "Host": f"localhost:{server.port}"}
        credentials = credentials or server.credentials
        if credentials is not None:
            self.headers["Authorization"] = basic(credentials)

    def close(self) -> None:
        self.conn.close()

    def raw(
        self, method: str, path: str, body: bytes | Iterable[bytes] | None = None, **headers: str
    ) -> http.client.HTTPResponse:
        """Send a request; the caller reads (and must finish reading) the response."""
        self.conn.request(method, path, body=body, headers={**self.headers, **headers})
        return self.conn.getresponse()

    def call(
        self,
        method: str,
        endpoint: str,
        body: bytes | dict[str, Any] | None = None,
        version: str = "2.0",
    ) -> Any:
        """``/api/<version>/mlflow/<endpoint>``: the decoded JSON answer (an error raises)."""
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        response = self.raw(method, f"/api/{version}/mlflow/{endpoint}", data)
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {endpoint}: HTTP {response.status}: {payload[:300]!r}")
        return json.loads(payload) if payload else {}


def now_ms() -> int:
    return int(time.time() * 1000)


def add_auth_argument(p: Any) -> None:
    """The workloads' ``--auth`` option (an ``argparse`` parser)."""
    p.add_argument(
        "--auth",
        choices=AUTH_MODES,
        default="none",
        help="basic-auth server: call as admin, as a non-admin user (default permission READ), "
        "or restricted (NO_PERMISSIONS; the workload grants); default: none",
    )
