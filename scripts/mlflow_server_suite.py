#!/usr/bin/env python3
"""Run MLflow's own tracking-server tests against ``mltrail server`` (or against MLflow's server).

MLflow's test files never enter this repository: this script takes them from an MLflow checkout
or git directory given on the command line (for example a fetched copy of a public MLflow fork),
copies ``tests/`` and ``pyproject.toml`` of one commit into a temporary folder, and runs pytest
there on three files:

    tests/tracking/test_rest_tracking.py      (tracking API, ajax-api, GraphQL, logged models)
    tests/tracking/test_model_registry.py     (registry)
    tests/tracking/test_mlflow_artifacts.py   (artifact proxy)

with the installed ``mlflow`` package as the client.  With ``--server mltrail`` (the default) the
only thing changed is how the tests start their server: this file is also a pytest plugin, loaded
with ``-p``, that replaces ``ServerThread`` and ``_init_server`` of
``tests/tracking/integration_test_utils.py`` and ``_launch_server`` of ``test_mlflow_artifacts.py``
at run time (the files on disk stay as MLflow wrote them).  Each replacement starts ``mltrail
server`` as a process, on a fresh SQLite database (``--backend sqlite``) or a fresh PostgreSQL
database (``--backend postgresql``, 127.0.0.1:5432 as user postgres), with the artifact options
the test gave MLflow's server.  ``--server mlflow`` runs the same selection unchanged against
MLflow's own server, for the baseline (MLflow's launchers use SQLite whatever ``--backend`` says).

Tests of areas outside mltrail's scope are deselected by the explicit list ``OUT_OF_SCOPE``
below, group by group; so are the tests in ``NOT_THROUGH_THE_SERVER`` (they write MLflow's own
database or start MLflow's own server, so they test MLflow whatever server they are given) and
in ``DELIBERATE_DIFFERENCES``, where mltrail refuses on purpose what MLflow's server accepts.
The same selection runs against both servers.  The run ends with the pass counts per file.

Usage (from an mltrail checkout; the server run is this checkout's ``src``)::

    python scripts/mlflow_server_suite.py /path/to/mlflow[.git] [--commit REV]
        [--server mltrail|mlflow] [--backend sqlite|postgresql] [--file rest_tracking ...]
        [--json results.json] [-- PYTEST_ARGS...]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FILES = {
    "rest_tracking": "tests/tracking/test_rest_tracking.py",
    "model_registry": "tests/tracking/test_model_registry.py",
    "mlflow_artifacts": "tests/tracking/test_mlflow_artifacts.py",
}

# Tests of MLflow features outside mltrail's tracking server, deselected (by test function name,
# every parametrization).  A name listed here that the checkout lacks is reported, not an error.
OUT_OF_SCOPE: dict[str, list[str]] = {
    # The AI gateway, its endpoints, model definitions and the secrets it stores; the prompt
    # lab's runs (MLflow's prompt engineering UI, which evaluates prompts on gateway routes).
    "ai gateway and secrets": [
        "test_gateway_proxy_handler_rejects_invalid_requests",
        "test_create_promptlab_run_handler_rejects_invalid_requests",
        "test_create_promptlab_run_handler_returns_expected_results",
        "test_create_and_get_secret",
        "test_update_secret",
        "test_list_secret_infos",
        "test_delete_secret",
        "test_create_secret_with_dict_value",
        "test_update_secret_with_dict_value",
        "test_create_and_update_compound_secret_via_rest",
        "test_create_and_get_endpoint",
        "test_create_endpoint_with_usage_tracking",
        "test_update_endpoint",
        "test_list_endpoints",
        "test_delete_endpoint",
        "test_model_definitions",
        "test_attach_detach_model_to_endpoint",
        "test_endpoint_bindings",
        "test_secrets_and_endpoints_integration",
        "test_list_providers",
        "test_list_models",
        "test_get_provider_config",
        "test_get_secrets_config_with_custom_passphrase",
        "test_get_secrets_config_with_default_passphrase",
        "test_endpoint_with_orphaned_model_definition",
        "test_update_model_definition_provider",
    ],
    # Tracing: traces, spans, the OpenTelemetry endpoint, trace metrics, assessments on traces.
    "tracing": [
        "test_legacy_start_and_end_trace_v2",
        "test_start_trace",
        "test_get_trace",
        "test_search_traces",
        "test_search_traces_parameter_validation",
        "test_search_traces_match_text",
        "test_delete_traces",
        "test_calculate_trace_filter_correlation",
        "test_set_and_delete_trace_tag",
        "test_query_trace_metrics",
        "test_get_trace_handler",
        "test_get_trace_artifact_handler",
        "test_link_traces_to_run_and_search_traces",
        "test_assessments_end_to_end",
        "test_rest_store_logs_spans_via_otel_endpoint",
    ],
    # GenAI evaluation datasets (mlflow.genai.datasets), not the run input datasets of log_inputs.
    "genai evaluation datasets": [
        "test_create_and_get_evaluation_dataset",
        "test_search_evaluation_datasets",
        "test_evaluation_dataset_tag_operations",
        "test_evaluation_dataset_delete",
        "test_evaluation_dataset_upsert_records",
        "test_add_dataset_to_experiments_rest_tracking",
        "test_remove_dataset_from_experiments_rest_tracking",
        "test_add_multiple_experiments_at_once_rest_tracking",
        "test_dataset_experiment_association_error_cases_rest_tracking",
        "test_idempotent_add_experiments_rest_tracking",
        "test_idempotent_remove_experiments_rest_tracking",
        "test_client_api_add_remove_experiments_rest_tracking",
    ],
    # GenAI issues (an experiment's issue tracker).
    "issues": [
        "test_create_issue_with_all_fields",
        "test_create_issue_minimal_fields",
        "test_create_issue_with_required_fields",
        "test_create_issue_invalid_experiment",
        "test_get_issue",
        "test_get_issue_not_found",
        "test_update_issue",
        "test_search_issues_no_filters",
        "test_search_issues_by_experiment",
        "test_search_issues_by_status",
        "test_search_issues_with_pagination",
        "test_search_issues_sorted_by_timestamp",
    ],
    # GenAI scorers and online scoring.
    "scorers": [
        "test_scorer_CRUD",
        "test_online_scoring_config",
    ],
}

# Tests that do not test the server they are given: against MLflow's server they pass because
# it runs inside the test process on the very database the test also opens itself.
NOT_THROUGH_THE_SERVER: dict[str, list[str]] = {
    # The mlflow CLI is run inside the test process, whose tracking URI (set by MLflow's
    # conftest) is the SQLite file MLflow's in-thread server also serves: the CLI writes that
    # file directly, and the test then reads through the server.
    "the CLI writes the test's database directly": [
        "test_delete_restore_experiment_cli",
        "test_rename_experiment_cli",
    ],
    # MlflowClient(backend_store_uri) registers the model in MLflow's database file directly.
    "registers in MLflow's database directly": [
        "test_rest_get_model_version_artifact_api_proxied_artifact_root",
    ],
    # Starts `mlflow server` itself (with MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX).
    "starts MLflow's own server": [
        "test_create_model_version_with_validation_regex",
    ],
}

# Tests that pass on MLflow's server only because it accepts what mltrail refuses on purpose
# (each is listed in README.md, "Differences from MLflow, on purpose", with the reason).
DELIBERATE_DIFFERENCES: dict[str, list[str]] = {
    # They PUT files through the artifact proxy at paths outside every run's (and logged
    # model's) artifact root, e.g. <default-artifact-root>/a.txt.  MLflow's proxy writes
    # anywhere in its destination, for anyone, including into folders of runs that do not exist
    # yet; mltrail's answers 404 RESOURCE_DOES_NOT_EXIST naming where artifacts are accepted.
    "proxy uploads outside a run": [
        "test_mlflow_artifacts_rest_apis",
        "test_mime_type_for_download_artifacts_api",
        "test_server_overrides_requested_mime_type",
    ],
    # It asserts MLflow's 500 for a file: source with a host (file://123.456.789.123/...);
    # mltrail answers 400 INVALID_PARAMETER_VALUE naming the rule (never a 500 for bad input).
    "400, not 500, for bad input": [
        "test_create_model_version_with_file_uri",
    ],
    # It asserts the message is exactly "Invalid path"; mltrail's names the path and the rule
    # ("Invalid artifact path '../path': ...", the same status and error code).
    "error messages that name the rule": [
        "test_path_validation",
    ],
}

HERE = Path(__file__).resolve().parent
REPO_SRC = HERE.parent / "src"
PG_ADMIN = "host=127.0.0.1 port=5432 dbname=test user=postgres"


# ----------------------------------------------------------------------------- the command


def _materialize(source: Path, commit: str, dest: Path) -> str:
    """Copy ``tests/`` and ``pyproject.toml`` of *commit* into *dest*; returns what was taken."""
    is_git = (
        subprocess.run(
            ["git", "-C", str(source), "rev-parse", "--git-dir"], capture_output=True, check=False
        ).returncode
        == 0
    )
    if not is_git:
        shutil.copytree(source / "tests", dest / "tests")
        shutil.copy2(source / "pyproject.toml", dest / "pyproject.toml")
        return f"{source} (not a git repository: copied as it is)"
    sha = subprocess.run(
        ["git", "-C", str(source), "rev-parse", f"{commit}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "-C", str(source), "archive", "--format=tar", sha, "tests", "pyproject.toml"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return f"{source} at {sha}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mlflow", type=Path, help="an MLflow checkout or git directory")
    parser.add_argument("--commit", default="HEAD", help="the commit whose tests run (git only)")
    parser.add_argument("--server", choices=["mltrail", "mlflow"], default="mltrail")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--file", action="append", choices=sorted(FILES), help="run only these files"
    )
    parser.add_argument("--json", type=Path, help="write every test's outcome here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: len(argv) - len(extra) - (1 if "--" in argv else 0)])
    args.pytest_args = extra

    work = Path(tempfile.mkdtemp(prefix="mlflow-server-suite-"))
    try:
        taken = _materialize(args.mlflow.resolve(), args.commit, work)
        print(f"MLflow's tests from {taken}; server: {args.server}; backend: {args.backend}")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(HERE), str(REPO_SRC), str(work), env.get("PYTHONPATH", "")) if p
        )
        env["MLTRAIL_SUITE_SERVER"] = args.server
        env["MLTRAIL_SUITE_BACKEND"] = args.backend
        env["MLTRAIL_SUITE_LOGS"] = str(work / "server-logs")
        json_path = args.json.resolve() if args.json else work / "results.json"
        env["MLTRAIL_SUITE_JSON"] = str(json_path)
        files = [FILES[name] for name in (args.file or sorted(FILES))]
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            Path(__file__).stem,
            "-o",
            "addopts=",
            "-q",
            "-rfE",
            *files,
            *args.pytest_args,
        ]
        started = time.monotonic()
        code = subprocess.call(command, cwd=work, env=env)
        print(f"suite run time: {time.monotonic() - started:.0f} s (server: {args.server})")
        return code
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


# ----------------------------------------------------------------------------- the servers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class MltrailServer:
    """``mltrail server`` in its own process, on a database of its own, for one test."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        default_artifact_root: str | None = None,
        artifacts_destination: str | None = None,
        serve_artifacts: bool = True,
        extra_env: dict[str, Any] | None = None,
    ) -> None:
        self.host = host
        self.serve_artifacts = serve_artifacts
        self.port = port or _free_port()
        self.url = f"http://{host}:{self.port}"
        self.default_artifact_root = default_artifact_root
        self.artifacts_destination = artifacts_destination
        self.extra_env = {k: str(v) for k, v in (extra_env or {}).items()}
        self.pid = 0
        self._folder = Path(tempfile.mkdtemp(prefix="mltrail-suite-server-"))
        self._pg_database: str | None = None

    def _database(self) -> str:
        if os.environ.get("MLTRAIL_SUITE_BACKEND") == "postgresql":
            import psycopg

            self._pg_database = f"mltrail_suite_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self._pg_database}"')
            return f"postgresql://postgres@127.0.0.1:5432/{self._pg_database}"
        return f"sqlite:///{self._folder / 'mltrail.db'}"

    def start(self) -> str:
        args = [
            "server",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--backend-store-uri",
            self._database(),
            "--log-level",
            "warning",
        ]
        if self.default_artifact_root:
            args += ["--default-artifact-root", self.default_artifact_root]
        if self.artifacts_destination:
            args += ["--artifacts-destination", self.artifacts_destination]
        if not self.serve_artifacts:
            args.append("--no-serve-artifacts")
        logs = Path(os.environ.get("MLTRAIL_SUITE_LOGS") or self._folder)
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"server-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRAIL_"))}
        env.update(self.extra_env)
        # In the test's working folder, as MLflow's server in a thread of the test process is
        # (a relative artifact_location is resolved against it).
        self.pid = _Forker.get().spawn(args, cwd=os.getcwd(), env=env, log=str(log))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.poll() is not None:
                raise RuntimeError(f"mltrail server exited; see {log}: {log.read_text()[-2000:]}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer,
            ):
                if answer.status == 200:
                    return self.url
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"mltrail server did not answer on {self.url} within 60 s")

    def stop(self) -> None:
        if self.pid and self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while self.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
        self.pid = 0
        if self._pg_database:
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self._pg_database}" WITH (FORCE)')
            self._pg_database = None
        shutil.rmtree(self._folder, ignore_errors=True)

    # what the tests use of a subprocess.Popen (test_mlflow_artifacts keeps the process)
    def poll(self) -> int | None:
        """None while the server process lives (the forker reaps it when it ends)."""
        if not self.pid:
            return 0
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return 0
        return None


# The forker: an interpreter that has imported mltrail's server once and forks one child per
# server, which runs ``mltrail server ARGS`` (mltrail.cli.main) in its own session.  Starting a
# fresh interpreter per test costs seconds of imports on a busy machine; a fork costs
# milliseconds.  Each child is still a process of its own with its own database.
_FORKER_CODE = """
import json, os, signal, sys
import mltrail.cli, mltrail.server, mltrail.store.sql, uvicorn, uvicorn.main
from mltrail.cli import main
try:
    import psycopg
except ImportError:
    pass
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped as they end
for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        os.chdir(request["cwd"])
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(request["env"])
        fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        sys.argv = ["mltrail", *request["args"]]
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    print(pid, flush=True)
"""


class _Forker:
    _instance: _Forker | None = None

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _FORKER_CODE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    @classmethod
    def get(cls) -> _Forker:
        if cls._instance is None or cls._instance.proc.poll() is not None:
            cls._instance = cls()
        return cls._instance

    def spawn(self, args: list[str], *, cwd: str, env: dict[str, str], log: str) -> int:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        request = {"args": args, "cwd": cwd, "env": env, "log": log}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    @classmethod
    def close(cls) -> None:
        if cls._instance is not None:
            assert cls._instance.proc.stdin is not None
            cls._instance.proc.stdin.close()
            cls._instance.proc.wait(timeout=10)
            cls._instance = None


def _tracking_artifact_root() -> str | None:
    """The artifact root the test gave MLflow's server (``initialize_backend_stores``)."""
    from mlflow.server import handlers

    store = handlers._tracking_store
    return getattr(store, "artifact_root_uri", None) if store is not None else None


class ServerThread:
    """Stands in for ``integration_test_utils.ServerThread(app, port)``: the same context
    manager, serving ``mltrail server`` with the artifact root the test configured."""

    def __init__(self, app: Any, port: int) -> None:
        self.port = port
        self.host = "127.0.0.1"
        self.url = f"http://{self.host}:{port}"
        self.health_url = f"{self.url}/health"
        self._server: MltrailServer | None = None

    def start(self) -> None:
        # MLflow's app in a thread serves no artifact proxy (nothing sets
        # _MLFLOW_SERVER_SERVE_ARTIFACTS), so neither does mltrail here.
        self._server = MltrailServer(
            port=self.port, default_artifact_root=_tracking_artifact_root(), serve_artifacts=False
        )
        self._server.start()

    def shutdown(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def join(self, timeout: float | None = None) -> None:
        return None

    def __enter__(self) -> str:
        self.start()
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


@contextlib.contextmanager
def _init_server(
    backend_uri: str,
    root_artifact_uri: str,
    extra_env: dict[str, Any] | None = None,
    app: str | None = None,
    server_type: str = "fastapi",
) -> Iterator[str]:
    """Stands in for ``integration_test_utils._init_server``."""
    import mlflow

    mlflow.set_tracking_uri(None)
    serve = (extra_env or {}).get("_MLFLOW_SERVER_SERVE_ARTIFACTS", "false") == "true"
    server = MltrailServer(
        default_artifact_root=root_artifact_uri, serve_artifacts=serve, extra_env=extra_env
    )
    try:
        yield server.start()
    finally:
        server.stop()


@contextlib.contextmanager
def _launch_server(
    host: str,
    port: int,
    backend_store_uri: str,
    default_artifact_root: str,
    artifacts_destination: str,
) -> Iterator[MltrailServer]:
    """Stands in for ``test_mlflow_artifacts._launch_server``."""
    server = MltrailServer(
        host=host,
        port=port,
        default_artifact_root=default_artifact_root,
        artifacts_destination=artifacts_destination,
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


# ----------------------------------------------------------------------------- the plugin

_outcomes: dict[str, str] = {}


def pytest_configure(config: Any) -> None:
    if os.environ.get("MLTRAIL_SUITE_SERVER") != "mltrail":
        return
    from tests.tracking import integration_test_utils

    integration_test_utils.ServerThread = ServerThread  # type: ignore[misc]
    integration_test_utils._init_server = _init_server


def pytest_collection_modifyitems(session: Any, config: Any, items: list[Any]) -> None:
    listed = {
        name: group
        for groups in (OUT_OF_SCOPE, NOT_THROUGH_THE_SERVER, DELIBERATE_DIFFERENCES)
        for group, names in groups.items()
        for name in names
    }
    keep, drop = [], []
    seen: set[str] = set()
    for item in items:
        name = item.originalname if hasattr(item, "originalname") else item.name
        if name in listed:
            drop.append(item)
            seen.add(name)
        else:
            keep.append(item)
        module = getattr(item, "module", None)
        if (
            os.environ.get("MLTRAIL_SUITE_SERVER") == "mltrail"
            and module is not None
            and module.__name__.endswith("test_mlflow_artifacts")
        ):
            module._launch_server = _launch_server
    missing = sorted(set(listed) - seen)
    if missing and not config.getoption("keyword") and not config.getoption("markexpr"):
        print(f"\nlisted tests this checkout does not have: {', '.join(missing)}")
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_unconfigure(config: Any) -> None:
    _Forker.close()


def pytest_runtest_logreport(report: Any) -> None:
    if report.when == "call" or report.outcome != "passed":
        previous = _outcomes.get(report.nodeid)
        if previous in ("failed", "error"):
            return
        if report.outcome == "failed" and report.when != "call":
            _outcomes[report.nodeid] = "error"
        else:
            _outcomes[report.nodeid] = report.outcome


def pytest_terminal_summary(terminalreporter: Any) -> None:
    per_file: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for nodeid, outcome in _outcomes.items():
        per_file[nodeid.split("::")[0]][outcome] += 1
    terminalreporter.section("pass counts per file (skipped tests not counted in 'of')")
    for path, counts in sorted(per_file.items()):
        ran = counts["passed"] + counts["failed"] + counts["error"]
        terminalreporter.write_line(
            f"{path}: {counts['passed']} passed of {ran}"
            f" ({counts['failed']} failed, {counts['error']} errors, {counts['skipped']} skipped)"
        )
    path = os.environ.get("MLTRAIL_SUITE_JSON")
    if path:
        Path(path).write_text(json.dumps(_outcomes, indent=1, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
