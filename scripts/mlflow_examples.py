#!/usr/bin/env python3
"""Run the Python scripts of MLflow's own ``examples/`` folder under MLflow and under mltrail.

MLflow's examples never enter this repository: this script takes ``examples/`` of one commit from
an MLflow git directory (or checkout) given on the command line, extracts it into a temporary
folder and runs every example script classified as runnable in ``EXAMPLES`` below, one at a time,
in up to three modes:

``mlflow``
    the script unchanged, under the installed ``mlflow``, on a fresh SQLite tracking store
    (``MLFLOW_TRACKING_URI=sqlite:///.../mlflow.db``), in a fresh copy of its folder;
``mltrail``
    the same script with only its import lines rewritten (``import mlflow`` becomes ``import
    mltrail as mlflow``, ``import mlflow.X`` / ``from mlflow.X import ...`` the mltrail module of
    the same name; nothing else changes), on a fresh SQLite store, with this checkout's ``src``
    first on ``PYTHONPATH``;
``client``
    the script unchanged under the installed ``mlflow``, with ``MLFLOW_TRACKING_URI`` pointing at
    a ``mltrail server`` (this checkout's ``src``) started for it on a free 127.0.0.1 port.

After each run a small collector (run with the same library as the script: ``mlflow`` for the
``mlflow`` and ``client`` modes, mltrail for the ``mltrail`` mode) reads back what was recorded:
experiments, runs (status, params, metrics' last values, tags minus volatile ones), the artifact
paths of each run, logged models (name, params, flavors of their MLmodel, source run) and
registered models with their versions.  Each of the ``mltrail`` and ``client`` records is
compared with the ``mlflow`` record (numbers with a relative tolerance of 1e-6, or keys only where
the example is nondeterministic), and a table ``example, mode, status, differences`` is printed;
``--out`` writes everything as JSON.

Usage (from an mltrail checkout)::

    python scripts/mlflow_examples.py /path/to/mlflow[.git] [--commit REV]
        [--only NAME ...] [--mode mlflow|mltrail|client|all] [--out report.json]
        [--timeout SECONDS]

``NAME`` is an example path under ``examples/`` (``statsmodels/train.py``) or a prefix of one
(``sklearn_autolog``).  Every script runs under ``nice -n 10`` with a timeout (300 s default).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"


@dataclass(frozen=True)
class Example:
    """How to run one runnable example."""

    args: tuple[str, ...] = ()
    # Only the metric/param keys are compared, not values: the example uses unseeded randomness,
    # the clock, or the machine's state.
    nondeterministic: bool = False
    # The example sets its own tracking URI to this SQLite file (relative to its folder).
    own_store: str | None = None
    # Modes the example can run in (all by default).
    modes: tuple[str, ...] = ("mlflow", "mltrail", "client")
    # Why it is expected to fail under mltrail (documented; the run still happens).
    known: str | None = None


@dataclass
class Outcome:
    example: str
    mode: str
    status: str  # ok | failed | timeout | skipped
    returncode: int | None = None
    error: str = ""
    record: dict[str, Any] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)


NETWORK = "needs network: downloads its data or model"
GENAI = "GenAI/tracing/LLM provider (out of scope)"
SPARK = "needs Spark or Databricks"
GPU = "needs a GPU (RAPIDS)"
NOT_A_SCRIPT = "helper module imported by another example, not a script"
PROJECT = "MLflow Projects launcher (runs other entry points in new environments)"

# Every Python file under examples/ is classified here, by its path under examples/.  A file the
# checkout has but this table lacks is reported as "unclassified" (skipped), so a newer MLflow
# commit shows what to add.  An Example(...) runs; a string is the reason it is skipped.
EXAMPLES: dict[str, Example | str] = {
    # --- tracking, sklearn and its autologging -------------------------------------------------
    "quickstart/mlflow_tracking.py": Example(nondeterministic=True),  # random values
    "remote_store/remote_server.py": Example(nondeterministic=True),  # random.randint metric
    "sklearn_logistic_regression/train.py": Example(),
    "sklearn_elasticnet_diabetes/linux/train_diabetes.py": Example(args=("0.01", "0.5")),
    "sklearn_elasticnet_diabetes/osx/train_diabetes.py": Example(args=("0.01", "0.5")),
    "sklearn_elasticnet_wine/train.py": NETWORK + " (reads winequality-red.csv from GitHub)",
    # Reads the wine-quality.csv beside it; no Docker needed.  The arguments are its MLproject's.
    "docker/train.py": Example(args=("--alpha", "0.5", "--l1-ratio", "0.1")),
    "sklearn_autolog/grid_search_cv.py": Example(),
    "sklearn_autolog/linear_regression.py": Example(),
    "sklearn_autolog/pipeline.py": Example(),
    "sklearn_autolog/utils.py": NOT_A_SCRIPT,
    "supply_chain_security/train.py": Example(
        known="deliberate: MLflow marks an autologged estimator with its run id, which its "
        "pickled copy keeps, so the copy log_model loads to check the input example logs that "
        "example as an eval dataset of the run; mltrail never writes into the user's estimator"
    ),
    "virtualenv/project/entrypoint.py": Example(),
    "uv-dependency-management/log_model.py": Example(
        own_store="mlflow.db",
        known="MLflow 3.17 fails here: its lock file pins another mlflow than the installed "
        "one, and MLflow's pip --dry-run check of the two pins finds no resolution",
    ),
    "pip_requirements/pip_requirements.py": Example(),
    "system_metrics/collect_system_metrics.py": Example(nondeterministic=True),  # machine load
    "mlflow_artifacts/example.py": Example(),
    "rest_api/mlflow_tracking_rest_api.py": (
        "raw REST calls to a server given by --hostname/--port and MLflow's internal "
        "mlflow.utils.time; the REST API is covered by scripts/mlflow_server_suite.py"
    ),
    # --- MLflow 3 logged models ----------------------------------------------------------------
    "mlflow-3/load_model_from_runs_uri.py": Example(),
    "mlflow-3/register_model.py": Example(),
    "mlflow-3/sklearn_autolog.py": Example(),
    "mlflow-3/evaluate_example.py": Example(),
    "mlflow-3/sklearn_example.py": NETWORK + " (reads winequality-red.csv from GitHub)",
    "mlflow-3/proto_inputs_outputs.py": NETWORK + " (reads winequality-red.csv from GitHub)",
    "mlflow-3/langchain_example.py": GENAI,
    "mlflow-3/langchain_simple.py": GENAI,
    "mlflow-3/langchain_databricks_example.py": GENAI,
    "demos/mlflow-3/ml.py": Example(),
    # MLflow 3.17 itself fails: log_model's default serialization_format "pt2" refuses the
    # TorchScript module the example logs (under mltrail the signature inference fails on a
    # tensor that still requires grad; see docs/api-compatibility.md).
    "demos/mlflow-3/deep_learning.py": "does not run on MLflow 3.17 (its log_model refuses "
    "a torch.jit.ScriptModule with the default serialization_format 'pt2')",
    "demos/mlflow-3/genai.py": GENAI,
    # --- pyfunc --------------------------------------------------------------------------------
    "pyfunc/train.py": Example(),
    "pyfunc/infer_model_code_paths.py": Example(),
    "pyfunc/custom_code.py": NOT_A_SCRIPT,
    "pyfunc/model_as_code.py": "the model file of model_as_code_driver.py (set_model), "
    "not a script",
    "pyfunc/model_as_code_driver.py": GENAI + " (its model calls OpenAI; asserts OPENAI_API_KEY)",
    "model_config/simple.py": Example(),
    "model_config/model.py": "the model file of model_config/simple.py (set_model), not a script",
    # --- flavors -------------------------------------------------------------------------------
    "xgboost/xgboost_native/train.py": Example(),
    # Unseeded train_test_split, as in the LightGBM one.
    "xgboost/xgboost_sklearn/train.py": Example(nondeterministic=True),
    "xgboost/xgboost_sklearn/utils.py": NOT_A_SCRIPT,
    "lightgbm/lightgbm_native/train.py": Example(),
    # Unseeded train_test_split: MLflow's own runs of it differ from each other.
    "lightgbm/lightgbm_sklearn/train.py": Example(nondeterministic=True),
    "lightgbm/lightgbm_sklearn/utils.py": NOT_A_SCRIPT,
    "statsmodels/train.py": Example(
        known="deliberate: MLflow logs fit's **kwargs as a param holding <class 'inspect._empty'>"
    ),
    "catboost/train.py": Example(),
    "pytorch/torchscript/IrisClassification/iris_classification.py": "does not run on MLflow "
    "3.17 (its log_model refuses a torch.jit.ScriptModule with the default "
    "serialization_format 'pt2')",
    "pytorch/CaptumExample/Titanic_Captum_Interpret.py": "needs captum (not installed here)",
    "pytorch/HPOExample/hpo_mnist.py": NETWORK + " (MNIST via torchvision)",
    "pytorch/MNIST/mnist_autolog_example.py": NETWORK + " (MNIST via torchvision)",
    "pytorch/mnist_tensorboard_artifact.py": NETWORK + " (MNIST via torchvision)",
    "pytorch/torchscript/MNIST/mnist_torchscript.py": NETWORK + " (MNIST via torchvision)",
    "shap/binary_classification.py": Example(),
    "shap/multiclass_classification.py": Example(),
    "shap/regression.py": Example(),
    "shap/explainer_logging.py": Example(),
    "keras/train.py": NETWORK + " (Reuters via tensorflow.keras); needs TensorFlow; "
    "mltrail's keras flavor is in progress on another branch",
    "tensorflow/train.py": "needs TensorFlow (not installed here)",
    "hyperparam/train.py": "needs TensorFlow (not installed here)",
    "hyperparam/search_hyperopt.py": PROJECT + "; needs hyperopt",
    "hyperparam/search_random.py": PROJECT,
    "multistep_workflow/main.py": PROJECT,
    "multistep_workflow/load_raw_data.py": NETWORK + " (MovieLens)",
    "multistep_workflow/etl_data.py": SPARK,
    "multistep_workflow/als.py": SPARK,
    "multistep_workflow/train_keras.py": SPARK + "; needs TensorFlow",
    "flower_classifier/train.py": NETWORK + " (flower photos); needs TensorFlow",
    "flower_classifier/image_pyfunc.py": "helper module of flower_classifier; needs TensorFlow",
    "flower_classifier/score_images_rest.py": "scores a served model over REST (needs a served "
    "TensorFlow model)",
    "flower_classifier/score_images_spark.py": SPARK,
    "evaluation/evaluate_on_binary_classifier.py": NETWORK + " (shap.datasets.adult)",
    "evaluation/evaluate_with_function.py": NETWORK + " (shap.datasets.adult)",
    "evaluation/evaluate_with_model_validation.py": NETWORK + " (shap.datasets.adult)",
    "evaluation/evaluate_with_static_dataset.py": NETWORK + " (shap.datasets.adult)",
    "evaluation/evaluate_on_multiclass_classifier.py": "does not run with the installed "
    "scikit-learn (its LogisticRegression(solver='liblinear') refuses 3 classes; fails the same "
    "under MLflow)",
    "evaluation/evaluate_on_regressor.py": Example(),
    "evaluation/evaluate_with_custom_metrics.py": Example(),
    "evaluation/evaluate_with_custom_metrics_comprehensive.py": Example(
        known="its custom artifacts include a dict holding MetricValue objects and an instance "
        "of its own class, which MLflow pickles and mltrail deliberately refuses to pickle"
    ),
    "evaluation/evaluate_with_custom_code_metrics.py": GENAI + " (OpenAI)",
    "evaluation/evaluate_with_llm_judge.py": GENAI + " (OpenAI)",
    "evaluation/evaluate_with_qa_metrics.py": GENAI + " (OpenAI)",
    "sktime/flavor.py": "custom flavor for sktime (not installed here)",
    "sktime/train.py": "needs sktime (not installed here)",
    "sktime/score_model.py": "needs sktime (not installed here)",
    "sktime/test_sktime_model_export.py": "pytest file for sktime (not installed here)",
    "h2o/random_forest.py": "needs h2o and a Java runtime (not installed here)",
    "paddle/train_high_level_api.py": "needs paddlepaddle (not installed here)",
    "paddle/train_low_level_api.py": "needs paddlepaddle (not installed here)",
    "pmdarima/train.py": "needs pmdarima (not installed here)",
    "prophet/train.py": "needs prophet (not installed here)",
    "spacy/train.py": "needs spacy (not installed here)",
    "johnsnowlabs/export.py": "needs johnsnowlabs, Spark and a license",
    "diffusers/demo_diffusers_adapter.py": NETWORK + " (Hugging Face hub); needs a GPU",
    "sentence_transformers/simple.py": NETWORK + " (Hugging Face hub)",
    "transformers/conversational.py": NETWORK + " (Hugging Face hub)",
    "transformers/load_components.py": NETWORK + " (Hugging Face hub)",
    "transformers/sentence_transformer.py": NETWORK + " (Hugging Face hub)",
    "transformers/simple.py": NETWORK + " (Hugging Face hub)",
    "transformers/whisper.py": NETWORK + " (Hugging Face hub)",
    "ray_serve/train_model.py": "needs Ray Serve (not installed here)",
    "rapids/mlflow_project/src/rf_test/train.py": GPU,
    "rapids/mlflow_project/src/rf_test/train_simple.py": GPU,
    "spark_udf/spark_udf.py": SPARK,
    "spark_udf/spark_udf_datetime.py": SPARK,
    "spark_udf/spark_udf_with_prebuilt_env.py": SPARK,
    "spark_udf/structs_and_arrays.py": SPARK,
    "pyspark_ml_autologging/logistic_regression.py": SPARK,
    "pyspark_ml_autologging/one_vs_rest.py": SPARK,
    "pyspark_ml_autologging/pipeline.py": SPARK,
    "pyspark_ml_connect/pipeline.py": SPARK,
    "databricks/dbconnect.py": SPARK,
    "databricks/log_runs.py": SPARK,
    "databricks/multipart.py": SPARK,
    "deployments/databricks/databricks.py": SPARK,
    "auth/auth.py": "MLflow's basic-auth server app (mltrail's auth is its own)",
    "jwt_auth/__init__.py": NOT_A_SCRIPT,
    "jwt_auth/jwt_auth.py": "plugin for MLflow's auth server app, not a script",
}

# Every file of these folders is GenAI, tracing or an LLM provider (out of scope).
GENAI_FOLDERS = (
    "ag2",
    "agno",
    "anthropic",
    "crewai",
    "gateway",
    "gemini",
    "groq",
    "haystack",
    "langchain",
    "livekit",
    "llama_index",
    "llms",
    "mistral",
    "openai",
    "pydanticai",
    "smolagents",
    "strands",
    "tracing",
)


def classify(path: str) -> Example | str:
    if path in EXAMPLES:
        return EXAMPLES[path]
    if path.split("/", 1)[0] in GENAI_FOLDERS:
        return GENAI
    return "unclassified: add it to EXAMPLES in scripts/mlflow_examples.py"


# ------------------------------------------------------------------------------------------------
# Extraction and the import rewrite


def extract_examples(source: Path, commit: str, dest: Path) -> None:
    """Extract ``examples/`` of ``commit`` from a git directory or a checkout into ``dest``."""
    if (source / "examples").is_dir() and not (source / "HEAD").exists():
        shutil.copytree(source / "examples", dest / "examples")
        return
    archive = subprocess.run(
        ["git", f"--git-dir={source}", "archive", commit, "examples"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")


_IMPORT_MLFLOW = re.compile(r"^(\s*)import mlflow(\.[\w.]+)?(\s+as\s+\w+)?\s*(#.*)?$")
_FROM_MLFLOW = re.compile(r"^(\s*)from mlflow(\.[\w.]+)? import ")


def rewrite_imports(text: str) -> str:
    """Rewrite only the import lines naming ``mlflow``; every other line stays as it is."""
    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        match = _IMPORT_MLFLOW.match(body)
        if match:
            indent, sub, alias, _ = match.groups()
            if alias:  # import mlflow.X as Y
                body = f"{indent}import mltrail{sub or ''}{alias}"
            elif sub:  # import mlflow.X binds the name mlflow
                body = f"{indent}import mltrail{sub}, mltrail as mlflow"
            else:
                body = f"{indent}import mltrail as mlflow"
        else:
            match = _FROM_MLFLOW.match(body)
            if match:
                body = (
                    f"{match.group(1)}from mltrail{match.group(2) or ''} import "
                    + body[match.end() :]
                )
        out.append(body + ending)
    return "".join(out)


def prepare_folder(examples_root: Path, example: str, work: Path, mode: str) -> Path:
    """A fresh copy of the example's folder; under mltrail every .py file's imports rewritten."""
    folder = (examples_root / example).parent
    dest = work / "example"
    shutil.copytree(folder, dest)
    if mode == "mltrail":
        for py in dest.rglob("*.py"):
            py.write_text(rewrite_imports(py.read_text()))
    return dest


# ------------------------------------------------------------------------------------------------
# Servers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _src_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(SRC), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
    )
    return env


@contextlib.contextmanager
def mltrail_server(work: Path) -> Iterator[str]:
    port = _free_port()
    store = work / "server"
    store.mkdir()
    cmd = [
        sys.executable,
        "-c",
        "import sys; sys.argv[0] = 'mltrail'; from mltrail.cli import main; main()",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        f"sqlite:///{store / 'mltrail.db'}",
        "--artifacts-destination",
        str(store / "artifacts"),
    ]
    log = open(work / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        ["nice", "-n", "10", *cmd],
        env=_src_env(),
        cwd=store,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"mltrail server did not start: {(work / 'server.log').read_text()[-2000:]}"
                    ) from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# ------------------------------------------------------------------------------------------------
# The collector: reads back what a run recorded, with the library the script used


COLLECTOR = r"""
import json, os, sys
lib = sys.argv[1]
if lib == "mltrail":
    import mltrail as mlflow
    from mltrail import MlflowClient
else:
    import mlflow
    from mlflow import MlflowClient

if len(sys.argv) > 3:
    mlflow.set_tracking_uri(sys.argv[3])
client = MlflowClient()
VOLATILE_PREFIXES = ("mlflow.source.", "mltrail.", "mlflow.user", "mlflow.runName",
                     "mlflow.log-model.history", "mlflow.databricks", "mlflow.loggedArtifacts",
                     "mlflow.modelVersions", "mlflow.parentRunId", "mlflow.project")

def tags(d):
    return {k: v for k, v in sorted(d.items()) if not k.startswith(VOLATILE_PREFIXES)}

def artifacts(run_id, path=None, depth=0):
    out = []
    if depth > 8:
        return out
    for f in client.list_artifacts(run_id, path):
        if f.is_dir:
            out.extend(artifacts(run_id, f.path, depth + 1))
        else:
            out.append(f.path)
    return sorted(out)

def mlmodel_flavors(artifact_location):
    try:
        local = mlflow.artifacts.download_artifacts(artifact_uri=artifact_location + "/MLmodel")
    except Exception as exc:  # reported, not fatal
        return "error: " + type(exc).__name__
    import yaml
    with open(local) as f:
        return sorted((yaml.safe_load(f) or {}).get("flavors", {}))

record = {"experiments": []}
run_index = {}
exps = sorted(client.search_experiments(), key=lambda e: (e.name))
for exp in exps:
    runs = client.search_runs([exp.experiment_id], order_by=["attributes.start_time ASC"],
                              max_results=1000)
    # Child runs (a search's candidates) often start within one millisecond: they are put
    # after their top-level run, ordered by their params, so that start order cannot differ.
    by_id = {r.info.run_id: r for r in runs}
    def top(r):
        seen = set()
        while r.data.tags.get("mlflow.parentRunId") in by_id and r.info.run_id not in seen:
            seen.add(r.info.run_id)
            r = by_id[r.data.tags["mlflow.parentRunId"]]
        return r
    def order(r):
        child = r.data.tags.get("mlflow.parentRunId") in by_id
        params = json.dumps(sorted(r.data.params.items())) if child else ""
        return (top(r).info.start_time or 0, child, params, r.info.start_time or 0,
                r.info.run_name or "")
    runs = sorted(runs, key=order)
    exp_rec = {"name": exp.name, "tags": tags(exp.tags), "runs": [], "logged_models": []}
    for i, r in enumerate(runs):
        run_index[r.info.run_id] = f"{exp.name}#{i}"
    for r in runs:
        parent = r.data.tags.get("mlflow.parentRunId")
        exp_rec["runs"].append({
            "status": r.info.status,
            "parent": run_index.get(parent, parent and "?"),
            "params": dict(sorted(r.data.params.items())),
            "metrics": dict(sorted(r.data.metrics.items())),
            "tags": tags(r.data.tags),
            "artifacts": artifacts(r.info.run_id),
            "inputs": sorted(d.dataset.name for d in (r.inputs.dataset_inputs if r.inputs else [])),
        })
    try:
        models = client.search_logged_models(experiment_ids=[exp.experiment_id], max_results=1000)
    except Exception as exc:
        models = []
        exp_rec["logged_models_error"] = type(exc).__name__ + ": " + str(exc)[:200]
    for m in sorted(models, key=lambda m: (m.creation_timestamp or 0, m.name)):
        exp_rec["logged_models"].append({
            "name": m.name,
            "source_run": run_index.get(m.source_run_id, m.source_run_id and "?"),
            "params": dict(sorted((m.params or {}).items())),
            "model_type": m.model_type,
            "flavors": mlmodel_flavors(m.artifact_location),
        })
    record["experiments"].append(exp_rec)

record["registered_models"] = []
for rm in sorted(client.search_registered_models(max_results=1000), key=lambda m: m.name):
    versions = client.search_model_versions(f"name='{rm.name}'")
    record["registered_models"].append({
        "name": rm.name,
        "versions": [
            {"version": str(v.version), "status": v.status,
             "source_kind": (v.source or "").split(":", 1)[0]
                            + (":/m-" if "/m-" in (v.source or "") else ""),
             "run": run_index.get(v.run_id, v.run_id and "?")}
            for v in sorted(versions, key=lambda v: int(v.version))
        ],
    })
json.dump(record, open(sys.argv[2], "w"), indent=1, sort_keys=True)
"""


# ------------------------------------------------------------------------------------------------
# Running one example in one mode


def _tail(text: str, lines: int = 6) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _exception_line(stderr: str) -> str:
    for line in reversed(stderr.strip().splitlines()):
        if re.match(r"^[\w.]+(Error|Exception|Exit|Interrupt)\b", line) or re.match(
            r"^[\w.]+: ", line
        ):
            return line.strip()[:400]
    return _tail(stderr, 2)[:400]


def run_one(
    examples_root: Path, name: str, spec: Example, mode: str, timeout: int, keep: bool
) -> Outcome:
    work = Path(tempfile.mkdtemp(prefix=f"mlex-{mode}-"))
    try:
        folder = prepare_folder(examples_root, name, work, mode)
        store_dir = work / "store"
        store_dir.mkdir()
        local_uri = f"sqlite:///{store_dir / 'mlflow.db'}"
        env = _src_env() if mode != "mlflow" else dict(os.environ)
        for key in ("MLFLOW_TRACKING_URI", "MLTRAIL_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
            env.pop(key, None)
        env["MPLBACKEND"] = "Agg"
        env["PYTHONHASHSEED"] = "0"
        env["HOME"] = str(work / "home")
        (work / "home").mkdir()
        for cache in ("matplotlib", "uv"):  # caches to keep (no network needed for them)
            src = Path.home() / ".cache" / cache
            if src.is_dir():
                (work / "home" / ".cache").mkdir(exist_ok=True)
                os.symlink(src, work / "home" / ".cache" / cache)
        with contextlib.ExitStack() as stack:
            if mode == "client":
                uri = stack.enter_context(mltrail_server(work))
            else:
                uri = local_uri
            env["MLFLOW_TRACKING_URI"] = uri
            if mode == "mltrail":
                env["MLTRAIL_TRACKING_URI"] = uri
            cmd = ["nice", "-n", "10", sys.executable, Path(name).name, *spec.args]
            started = time.monotonic()
            try:
                proc = subprocess.run(
                    cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout
                )
            except subprocess.TimeoutExpired:
                return Outcome(name, mode, "timeout", error=f"no exit after {timeout} s")
            elapsed = time.monotonic() - started
            (work / "stdout.txt").write_text(proc.stdout)
            (work / "stderr.txt").write_text(proc.stderr)
            status = "ok" if proc.returncode == 0 else "failed"
            error = "" if proc.returncode == 0 else _exception_line(proc.stderr)
            collect_uri = uri
            if spec.own_store:
                collect_uri = f"sqlite:///{folder / spec.own_store}"
            lib = "mltrail" if mode == "mltrail" else "mlflow"
            collector = work / "collect.py"
            collector.write_text(COLLECTOR)
            out_json = work / "record.json"
            col = subprocess.run(
                [
                    "nice",
                    "-n",
                    "10",
                    sys.executable,
                    str(collector),
                    lib,
                    str(out_json),
                    collect_uri,
                ],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            record: dict[str, Any] = {"seconds": round(elapsed, 1)}
            if col.returncode == 0:
                record.update(json.loads(out_json.read_text()))
            else:
                record["collector_error"] = _exception_line(col.stderr)
            return Outcome(name, mode, status, proc.returncode, error, record)
    finally:
        if keep:
            print(f"  kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------------------------------------
# Comparison


def _same_number(a: Any, b: Any, tolerance: float) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)
    return bool(a == b)


def _same_param(a: str, b: str, tolerance: float) -> bool:
    if a == b:
        return True
    try:
        return _same_number(float(a), float(b), tolerance)
    except ValueError:
        return False


def _compare_mapping(
    where: str, base: dict[str, Any], other: dict[str, Any], values: bool, cmp: Any
) -> list[str]:
    diffs = []
    missing = sorted(set(base) - set(other))
    extra = sorted(set(other) - set(base))
    if missing:
        diffs.append(f"{where}: missing {missing}")
    if extra:
        diffs.append(f"{where}: extra {extra}")
    if values:
        for key in sorted(set(base) & set(other)):
            if _TIMING.fullmatch(str(key)):
                continue  # how long something took: keys only
            if not cmp(base[key], other[key]):
                diffs.append(f"{where}[{key}]: {base[key]!r} != {other[key]!r}")
    return diffs


_MODEL_ID = re.compile(r"\bm-[0-9a-f]{32}\b")
#: Metrics that time something (a search's ``mean_fit_time``...): compared by key only.
_TIMING = re.compile(r"(mean|std)_(fit|score)_time")


def _same_tag(a: Any, b: Any) -> bool:
    """Tag values equal once logged model ids (new in every run) are masked."""
    if isinstance(a, str) and isinstance(b, str):
        return _MODEL_ID.sub("m-<id>", a) == _MODEL_ID.sub("m-<id>", b)
    return bool(a == b)


def compare(base: dict[str, Any], other: dict[str, Any], nondeterministic: bool) -> list[str]:
    """Differences of ``other`` from ``base`` (the record of the unchanged script under MLflow)."""
    tol = 1e-6
    values = not nondeterministic
    diffs: list[str] = []
    for key in ("collector_error",):
        if other.get(key):
            diffs.append(f"{key}: {other[key]}")
    b_exps = {e["name"]: e for e in base.get("experiments", [])}
    o_exps = {e["name"]: e for e in other.get("experiments", [])}
    diffs += _compare_mapping("experiments", b_exps, o_exps, False, None)
    for name in sorted(set(b_exps) & set(o_exps)):
        be, oe = b_exps[name], o_exps[name]
        diffs += _compare_mapping(f"{name}.tags", be["tags"], oe["tags"], True, _same_tag)
        if len(be["runs"]) != len(oe["runs"]):
            diffs.append(f"{name}: {len(be['runs'])} runs != {len(oe['runs'])}")
        for i, (br, orr) in enumerate(zip(be["runs"], oe["runs"], strict=False)):
            w = f"{name}#{i}"
            for key in ("status", "parent", "inputs"):
                if br[key] != orr[key]:
                    diffs.append(f"{w}.{key}: {br[key]!r} != {orr[key]!r}")
            diffs += _compare_mapping(
                f"{w}.params",
                br["params"],
                orr["params"],
                values,
                lambda a, b: _same_param(a, b, tol),
            )
            diffs += _compare_mapping(
                f"{w}.metrics",
                br["metrics"],
                orr["metrics"],
                values,
                lambda a, b: _same_number(a, b, tol),
            )
            diffs += _compare_mapping(f"{w}.tags", br["tags"], orr["tags"], values, _same_tag)
            if br["artifacts"] != orr["artifacts"]:
                missing = sorted(set(br["artifacts"]) - set(orr["artifacts"]))
                extra = sorted(set(orr["artifacts"]) - set(br["artifacts"]))
                diffs.append(f"{w}.artifacts: missing {missing} extra {extra}")
        if oe.get("logged_models_error"):
            diffs.append(f"{name}.logged_models: {oe['logged_models_error']}")
        bm, om = be["logged_models"], oe["logged_models"]
        if [m["name"] for m in bm] != [m["name"] for m in om]:
            diffs.append(
                f"{name}.logged_models: {[m['name'] for m in bm]} != {[m['name'] for m in om]}"
            )
        else:
            for bmod, omod in zip(bm, om, strict=True):
                w = f"{name}.logged_model[{bmod['name']}]"
                for key in ("source_run", "flavors", "model_type"):
                    # Over REST MLflow's client reads an unset model_type as "" (proto default),
                    # whatever the server; its local stores give None.
                    if key == "model_type" and not bmod[key] and not omod[key]:
                        continue
                    if bmod[key] != omod[key]:
                        diffs.append(f"{w}.{key}: {bmod[key]!r} != {omod[key]!r}")
                diffs += _compare_mapping(
                    f"{w}.params",
                    bmod["params"],
                    omod["params"],
                    values,
                    lambda a, b: _same_param(a, b, tol),
                )
    b_rm = {m["name"]: m for m in base.get("registered_models", [])}
    o_rm = {m["name"]: m for m in other.get("registered_models", [])}
    diffs += _compare_mapping("registered_models", b_rm, o_rm, False, None)
    for name in sorted(set(b_rm) & set(o_rm)):
        if b_rm[name]["versions"] != o_rm[name]["versions"]:
            diffs.append(
                f"registered_model[{name}].versions: {b_rm[name]['versions']} != "
                f"{o_rm[name]['versions']}"
            )
    return diffs


# ------------------------------------------------------------------------------------------------


def _print_table(outcomes: list[Outcome]) -> None:
    width = max((len(o.example) for o in outcomes), default=10)
    print(f"{'example':<{width}}  {'mode':<7}  {'status':<8}  details")
    for o in outcomes:
        print(f"{o.example:<{width}}  {o.mode:<7}  {o.status:<8}  {_row_detail(o)}")
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[f"{o.mode}:{o.status}"] = counts.get(f"{o.mode}:{o.status}", 0) + 1
    print("totals:", ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))


def _recompare(report: Path, out: Path | None) -> int:
    """The comparison of an earlier report's records, again (after a change to ``compare``)."""
    outcomes = [Outcome(**o) for o in json.loads(report.read_text())]
    by_example: dict[str, dict[str, Outcome]] = {}
    for o in outcomes:
        by_example.setdefault(o.example, {})[o.mode] = o
    for name, records in by_example.items():
        spec = classify(name)
        base = records.get("mlflow")
        if isinstance(spec, str) or base is None:
            continue
        for mode, o in records.items():
            if mode == "mlflow":
                continue
            o.status = "failed" if o.returncode not in (0, None) else o.status
            o.status = "ok" if o.status == "differs" else o.status
            o.differences = []
            if base.status != o.status:
                o.differences.append(f"status {base.status} under mlflow, {o.status} here")
            o.differences += compare(base.record, o.record, spec.nondeterministic)
            if o.status == "ok" and o.differences:
                o.status = "differs"
    _print_table(outcomes)
    if out:
        _write_report(out, outcomes)
    return 0


def _row_detail(o: Outcome) -> str:
    detail = o.error
    if o.differences:
        detail = (detail + " | " if detail else "") + "; ".join(o.differences[:6])
        if len(o.differences) > 6:
            detail += f"; ... {len(o.differences) - 6} more"
    return detail


def _write_report(path: Path, outcomes: list[Outcome]) -> None:
    path.write_text(
        json.dumps([o.__dict__ for o in outcomes], indent=1, sort_keys=True, default=str)
    )


def python_examples(examples_root: Path) -> list[str]:
    root = examples_root
    return sorted(
        str(p.relative_to(root)).replace(os.sep, "/")
        for p in root.rglob("*.py")
        if ".ipynb_checkpoints" not in p.parts
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mlflow", type=Path, help="MLflow git directory or checkout")
    parser.add_argument("--commit", default="HEAD")
    parser.add_argument("--only", nargs="+", default=None, metavar="NAME")
    parser.add_argument("--mode", choices=("mlflow", "mltrail", "client", "all"), default="all")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--timeout", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep each run's temporary folder")
    parser.add_argument(
        "--recompare",
        type=Path,
        default=None,
        metavar="REPORT",
        help="compare the records of an earlier --out report again (no example runs)",
    )
    args = parser.parse_args(argv)
    if args.recompare:
        return _recompare(args.recompare, args.out)

    modes = ["mlflow", "mltrail", "client"] if args.mode == "all" else [args.mode]
    tmp = Path(tempfile.mkdtemp(prefix="mlflow-examples-"))
    outcomes: list[Outcome] = []
    try:
        extract_examples(args.mlflow.resolve(), args.commit, tmp)
        root = tmp / "examples"
        names = python_examples(root)
        if args.only:
            names = [n for n in names if any(n == o or n.startswith(o) for o in args.only)]
        for name in names:
            spec = classify(name)
            if isinstance(spec, str):
                outcomes.append(Outcome(name, "-", "skipped", error=spec))
                continue
            records: dict[str, Outcome] = {}
            for mode in modes:
                if mode not in spec.modes:
                    continue
                print(f"running {name} [{mode}]", file=sys.stderr, flush=True)
                outcome = run_one(root, name, spec, mode, args.timeout, args.keep)
                records[mode] = outcome
                outcomes.append(outcome)
            base = records.get("mlflow")
            for mode, outcome in records.items():
                if mode == "mlflow" or base is None:
                    continue
                if base.status != outcome.status:
                    outcome.differences.append(
                        f"status {base.status} under mlflow, {outcome.status} here"
                    )
                outcome.differences += compare(base.record, outcome.record, spec.nondeterministic)
                if outcome.status == "ok" and outcome.differences:
                    outcome.status = "differs"
                if spec.known and outcome.status != "ok":
                    outcome.error = f"[known: {spec.known}] {outcome.error}"
            for outcome in records.values():  # progress, and a usable report if interrupted
                print(
                    f"  {outcome.mode}: {outcome.status} {_row_detail(outcome)}",
                    file=sys.stderr,
                    flush=True,
                )
            if args.out:
                _write_report(args.out, outcomes)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    _print_table(outcomes)
    if args.out:
        _write_report(args.out, outcomes)
    bad = [o for o in outcomes if o.status in ("failed", "timeout", "differs") and o.mode != "-"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
