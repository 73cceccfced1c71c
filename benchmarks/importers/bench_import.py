"""Workload ``import_mlflow``: bring an MLflow SQLite store into another store, one tool.

    python -m benchmarks.importers.bench_import --tool mltrail|mlflow --tmp DIR
        [--runs N] [--mlflow-runs N] [--cache DIR] [--quick]

The store (``benchmarks/importers/_store.py``): N runs (default 10,000; MLflow's side its
first ``--mlflow-runs``, default 500) of 10 params, 5 metrics x 100 steps, 3 tags and one
small artifact each, in MLflow 3.17's own schema; generated once into the cache (untimed),
copied into DIR for this run (untimed).

mltrail: ``mltrail import mlflow sqlite:///<copy>/mlflow.db --tracking-uri
sqlite:///DIR/dest/mltrail.db``, the console script beside this interpreter, as a subprocess
(progress bars on, as a user sees them): ``import_s`` is the wall time of the first import
(interpreter start-up included), ``reimport_s`` that of the same command run again with
nothing new.  Each must exit 0 with the closing table's source and destination columns
equal and the expected counts (runs, params, metric points, artifacts); the second must
write no run.  Then run 0 is read back through ``mltrail.MlflowClient`` under its MLflow
run id (params, m0's 100 points, the artifact) and compared with the source.

MLflow (``--mlflow-method client``, the default): ``benchmarks/importers/_mlflow_copy.py`` (a
straightforward copy through ``mlflow.MlflowClient``; see its docstring) into
``sqlite:///DIR/dest/mlflow.db`` as a subprocess: ``copy_s`` is its wall time, ``loop_s`` its
copying time after start-up; ``ms_per_run`` is loop_s / runs (start-up excluded, in MLflow's
favour) and ``import_s`` the time extrapolated to N runs (start-up + N x per-run time).
``--mlflow-method export-import``: mlflow-export-import's export-experiment from the SQLite
store, then import-experiment into ``mlflow server`` on ``DIR/dest/mlflow.db`` (started
untimed; the package from ``--export-import-path``): ``copy_s`` is the two commands' wall
time, and per run it is copy_s / runs.  Either copy is checked by SQL counts on the
destination and the same read-back of run 0 (found by its param p0: names and ids change).

mltrail's ``ms_per_run`` is import_s / N on the full N, start-up included.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.importers._store import (
    ARTIFACT,
    EXPERIMENT,
    Expected,
    cached_store,
    copy_store,
    first_run,
)
from benchmarks.tracking._common import NotAvailable, Result, check, main, parser

ROOT = Path(__file__).resolve().parent.parent.parent
COUNT_ROW = re.compile(r"^(experiments|runs|params|tags|metric points|artifacts)\s+(\S+)\s+(\S+)")
WROTE = re.compile(r"Wrote: (\d+) experiments, (\d+) runs \((\d+) unchanged\)")
EVERYTHING = "The destination holds everything the source holds."


def mltrail_command() -> list[str]:
    """The ``mltrail`` console script of this interpreter's environment."""
    script = Path(sys.executable).parent / "mltrail"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from mltrail.cli import main; sys.exit(main())"]


def command_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    return env


def run_mltrail_import(source: Path, dest: Path, cwd: Path) -> tuple[float, str]:
    cmd = [
        *mltrail_command(),
        "import",
        "mlflow",
        f"sqlite:///{source}",
        "--tracking-uri",
        f"sqlite:///{dest}",
    ]
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=cwd, env=command_env(), capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(
            f"mltrail import exited {proc.returncode}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        )
    return elapsed, proc.stdout


def parse_table(stdout: str) -> dict[str, tuple[str, str]]:
    rows = {}
    for line in stdout.splitlines():
        m = COUNT_ROW.match(line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(3))
    return rows


def check_table(stdout: str, expected: Expected) -> dict[str, int]:
    rows = parse_table(stdout)
    check(EVERYTHING in stdout, f"the import's table lists differences:\n{stdout}")
    for label, (ours, theirs) in rows.items():
        check(ours == theirs, f"{label}: source {ours}, destination {theirs}")
    want = {
        "runs": expected.runs,
        "params": expected.params,
        "metric points": expected.metric_points,
        "artifacts": expected.artifacts,
    }
    for label, count in want.items():
        check(label in rows, f"no {label!r} row in the import's table:\n{stdout}")
        check(int(rows[label][1]) == count, f"{label}: {rows[label][1]}, expected {count}")
    return {label.replace(" ", "_"): int(theirs) for label, (_, theirs) in rows.items()}


def read_back(client: Any, run_id: str, source_db: Path, tmp: Path) -> None:
    """Run 0 in the destination equals the source: params, m0's points, the artifact."""
    _, _, params, history = first_run(source_db)
    run = client.get_run(run_id)
    check(dict(run.data.params) == params, "run 0's params differ")
    got = sorted((m.step, m.value) for m in client.get_metric_history(run_id, "m0"))
    check(got == history, f"run 0's m0 history differs ({len(got)} points)")
    names = [Path(a.path).name for a in client.list_artifacts(run_id)]
    check(names == [ARTIFACT], f"run 0's artifacts: {names}")
    local = client.download_artifacts(run_id, ARTIFACT, str(tmp / "read-back"))
    summary = json.loads(Path(local).read_text(encoding="utf-8"))
    check(summary.get("params") == params, "run 0's artifact differs")


def run_mltrail(args: argparse.Namespace, n: int) -> Result:
    cached, was_cached = cached_store(args.cache, n, args.seed)
    source = copy_store(cached, args.tmp / "source")
    dest_dir = args.tmp / "dest"
    dest_dir.mkdir()
    dest = dest_dir / "mltrail.db"
    expected = Expected(n)

    import_s, out = run_mltrail_import(source, dest, args.tmp)
    counts = check_table(out, expected)
    reimport_s, out2 = run_mltrail_import(source, dest, args.tmp)
    check_table(out2, expected)
    wrote = WROTE.search(out2)
    if wrote is None:
        raise RuntimeError(f"no 'Wrote:' line in the second import's output:\n{out2}")
    check(wrote.group(2) == "0", f"the second import wrote {wrote.group(2)} runs")

    import mltrail

    run_id = first_run(source)[0]
    read_back(mltrail.MlflowClient(tracking_uri=f"sqlite:///{dest}"), run_id, source, args.tmp)
    return {
        "method": "mltrail import mlflow (console script)",
        "mltrail_module": str(Path(mltrail.__file__).parent),
        "store": "cached" if was_cached else "generated",
        "runs": n,
        "import_s": import_s,
        "ms_per_run": import_s / n * 1e3,
        "runs_per_s": n / import_s,
        "reimport_s": reimport_s,
        "reimport_runs_written": int(wrote.group(2)),
        "reimport_runs_unchanged": int(wrote.group(3)),
        **{f"dest_{k}": v for k, v in counts.items()},
    }


def sql_counts(db: Path) -> dict[str, int]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {
            table: int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("runs", "params", "metrics")
        }
    finally:
        con.close()


def find_copy_of_run0(client: Any, source: Path) -> str:
    """The destination's id of run 0, found by its first param (run names and ids may change)."""
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        raise RuntimeError(f"no experiment {EXPERIMENT!r} in MLflow's copy")
    p0 = first_run(source)[2]["p0"]
    found = client.search_runs([experiment.experiment_id], f"params.p0 = '{p0}'")
    check(len(found) == 1, f"{len(found)} copies of run 0")
    return str(found[0].info.run_id)


def check_sql_counts(dest: Path, m: int) -> None:
    expected = Expected(m)
    counts = sql_counts(dest)
    check(counts["runs"] == m, f"MLflow copied {counts['runs']} runs of {m}")
    check(counts["params"] == expected.params, f"MLflow copied {counts['params']} params")
    check(
        counts["metrics"] == expected.metric_points,
        f"MLflow copied {counts['metrics']} metric points",
    )


def mlflow_client_copy(args: argparse.Namespace, source: Path, dest: Path) -> Result:
    """MLflow's side by default: _mlflow_copy.py, a copy through mlflow.MlflowClient."""
    scratch = args.tmp / "scratch"
    scratch.mkdir()
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.importers._mlflow_copy",
        f"sqlite:///{source}",
        f"sqlite:///{dest}",
        str(scratch),
    ]
    env = command_env()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=dest.parent, env=env, capture_output=True, text=True, check=False
    )
    copy_s = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"MLflow copy exited {proc.returncode}: {proc.stderr[-3000:]}")
    copied: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    check_sql_counts(dest, int(copied["runs"]))

    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{dest}")
    read_back(client, find_copy_of_run0(client, source), source, args.tmp)
    return {
        "method": "straightforward copy through mlflow.MlflowClient",
        "copy_s": copy_s,
        "loop_s": float(copied["loop_s"]),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mlflow_export_import(args: argparse.Namespace, source: Path, dest: Path) -> Result:
    """mlflow-export-import: export-experiment from the SQLite store into a folder, then
    import-experiment into an MLflow tracking server on *dest* (its import into a SQLite URI
    fails on the second run with MLflow 3.17.2: it tolerates only a server's "already
    exists").  Both commands are timed; the server's start is not."""
    packages = args.export_import_path
    if packages is None or not (packages / "mlflow_export_import").is_dir():
        raise NotAvailable(
            f"mlflow-export-import is not in {packages}: benchmarks/.venv/bin/pip install "
            "--no-deps --target benchmarks/.cache/export-import mlflow-export-import==1.2.0 "
            "shortuuid tabulate"
        )
    env = command_env()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(packages), env.get("PYTHONPATH")) if p)
    port = free_port()
    server_log = (dest.parent / "server.log").open("w")
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{dest}",
            "--default-artifact-root",
            str(dest.parent / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=dest.parent,
        env=command_env(),
        stdout=server_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the MLflow server did not start (see {server_log.name})")
            time.sleep(0.5)
        exported = args.tmp / "exported"
        steps = (
            (
                "export_s",
                f"sqlite:///{source}",
                [
                    "mlflow_export_import.experiment.export_experiment",
                    "--experiment",
                    EXPERIMENT,
                    "--output-dir",
                    str(exported),
                ],
            ),
            (
                "import_only_s",
                url,
                [
                    "mlflow_export_import.experiment.import_experiment",
                    "--experiment-name",
                    EXPERIMENT,
                    "--input-dir",
                    str(exported),
                ],
            ),
        )
        times: Result = {}
        for key, uri, module_args in steps:
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", *module_args],
                cwd=args.tmp,
                env={**env, "MLFLOW_TRACKING_URI": uri},
                capture_output=True,
                text=True,
                check=False,
            )
            times[key] = time.perf_counter() - start
            if proc.returncode != 0:
                raise RuntimeError(
                    f"{module_args[0]} exited {proc.returncode}: {proc.stdout[-1500:]}"
                    f"{proc.stderr[-1500:]}"
                )
        import mlflow

        client = mlflow.MlflowClient(tracking_uri=url)
        read_back(client, find_copy_of_run0(client, source), source, args.tmp)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        server_log.close()
    copy_s = float(times["export_s"] + times["import_only_s"])
    return {
        "method": "mlflow-export-import 1.2.0 (export-experiment, import-experiment via server)",
        "copy_s": copy_s,
        "loop_s": copy_s,  # start-ups included: per run it is the commands' whole time
        **times,
    }


def run_mlflow(args: argparse.Namespace, n: int) -> Result:
    m = min(n, args.mlflow_runs or (20 if args.quick else 500))
    cached, was_cached = cached_store(args.cache, m, args.seed)
    source = copy_store(cached, args.tmp / "source")
    dest_dir = args.tmp / "dest"
    dest_dir.mkdir()
    dest = dest_dir / "mlflow.db"
    if args.mlflow_method == "export-import":
        result = mlflow_export_import(args, source, dest)
    else:
        result = mlflow_client_copy(args, source, dest)
    check_sql_counts(dest, m)
    copy_s, loop_s = float(result["copy_s"]), float(result["loop_s"])
    per_run = loop_s / m
    return {
        **result,
        "store": "cached" if was_cached else "generated",
        "runs": m,
        "ms_per_run": per_run * 1e3,
        "runs_per_s": 1 / per_run,
        "import_s": (copy_s - loop_s) + per_run * n,  # extrapolated to n runs
        "extrapolated_to_runs": n,
    }


def run(args: argparse.Namespace) -> Result:
    n = args.runs or (200 if args.quick else 10_000)
    if args.tool == "mltrail":
        return run_mltrail(args, n)
    return run_mlflow(args, n)


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--runs", type=int, default=0, help="runs in the store (default 10,000)")
    p.add_argument(
        "--mlflow-runs", type=int, default=0, help="runs MLflow's side copies (default 500)"
    )
    p.add_argument(
        "--mlflow-method",
        choices=("client", "export-import"),
        default="client",
        help="MLflow's side: a copy through MlflowClient (default) or mlflow-export-import",
    )
    p.add_argument(
        "--export-import-path",
        type=Path,
        default=ROOT / "benchmarks" / ".cache" / "export-import",
        help="a pip --target folder holding mlflow-export-import (for --mlflow-method "
        "export-import; default benchmarks/.cache/export-import)",
    )
    p.add_argument("--seed", type=int, default=20261206)
    p.add_argument(
        "--cache",
        type=Path,
        default=ROOT / "benchmarks" / ".cache",
        help="where generated stores are kept (default benchmarks/.cache)",
    )
    return p


if __name__ == "__main__":
    main("import_mlflow", run, build_parser())
