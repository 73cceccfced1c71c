"""Scenario of tests/autolog/test_statsmodels.py, run as ``python _statsmodels_scenario.py
<mlflow|mltrail> <tracking uri> <summary.json>``: statsmodels fits under ``statsmodels.autolog``
with several configurations, and what each run recorded, as JSON."""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

import numpy as np
import statsmodels.api as sm

warnings.filterwarnings("ignore")

if sys.argv[1] == "mlflow":
    import mlflow
else:
    import mltrail as mlflow

mlflow.set_tracking_uri(sys.argv[2])
mlflow.set_experiment("statsmodels")
client = mlflow.MlflowClient()
rng = np.random.default_rng(0)
X = sm.add_constant(rng.normal(size=(60, 2)))
y = X @ np.array([1.0, 2.0, -1.0]) + rng.normal(size=60)
out: dict[str, Any] = {}
#: Tags every run has whose values are the machine's or the run's.
PER_RUN_TAGS = ("mlflow.runName", "mlflow.source.name", "mlflow.user")


def recorded(run_id: str) -> dict[str, Any]:
    run = client.get_run(run_id)
    tags = {k: v for k, v in run.data.tags.items() if not k.startswith("mltrail.")}
    summary: dict[str, Any] = {
        "params": run.data.params,
        "metrics": run.data.metrics,
        "tags": {k: ("<per run>" if k in PER_RUN_TAGS else v) for k, v in tags.items()},
        "artifacts": sorted(f.path for f in client.list_artifacts(run_id)),
        "status": run.info.status,
        "models": [],
    }
    for output in run.outputs.model_outputs if run.outputs else []:
        model = client.get_logged_model(output.model_id)
        summary["models"].append(
            {
                "step": output.step,
                "name": model.name,
                "status": str(model.status),
                "metrics": sorted(
                    (m.key, m.value, m.run_id == run_id) for m in model.metrics or []
                ),
                "tags": sorted(k for k in model.tags if not k.startswith("mltrail.")),
                "flavors": sorted(
                    mlflow.models.get_model_info(f"models:/{model.model_id}").flavors
                ),
            }
        )
    return summary


def last_run_id() -> str:
    run = mlflow.last_active_run()
    assert run is not None
    return run.info.run_id


# A managed run: ordinary least squares with its defaults.
mlflow.statsmodels.autolog()
ols = sm.OLS(y, X).fit()
out["ols"] = recorded(last_run_id())
ols_model_id = client.get_run(last_run_id()).outputs.model_outputs[0].model_id
loaded = mlflow.statsmodels.load_model(f"models:/{ols_model_id}")
out["ols_reloaded_predicts_the_same"] = bool(np.allclose(loaded.predict(X), ols.predict(X)))

# A fit calling its base class's fit logs once; arguments passed are logged as given.
logit = sm.Logit((y > 0).astype(float), X).fit(disp=0, maxiter=50)
out["logit"] = recorded(last_run_id())

# A generalized linear model, registered, with extra tags on the run autologging starts.
mlflow.statsmodels.autolog(registered_model_name="glm-model", extra_tags={"team": "stats"})
sm.GLM(y, X, family=sm.families.Gaussian()).fit()
glm_run = last_run_id()
out["glm"] = recorded(glm_run)
version = client.get_model_version("glm-model", "1")
out["glm_version_source_is_the_logged_model"] = version.source == (
    "models:/" + client.get_run(glm_run).outputs.model_outputs[0].model_id
)

# Without models: params, metrics and the summary only.
mlflow.statsmodels.autolog(log_models=False)
sm.WLS(y, X, weights=np.ones(60)).fit(cov_type="HC1")
out["wls_without_model"] = recorded(last_run_id())

# Inside the user's run, exclusive: nothing is logged to it.
mlflow.statsmodels.autolog(exclusive=True)
with mlflow.start_run() as user_run:
    sm.OLS(y, X).fit()
out["exclusive_user_run"] = recorded(user_run.info.run_id)

# Inside the user's run, not exclusive: logged to it, the run stays the user's.
mlflow.statsmodels.autolog()
with mlflow.start_run() as user_run:
    sm.OLS(y, X).fit()
    out["user_run_still_active"] = mlflow.active_run().info.run_id == user_run.info.run_id
out["user_run"] = recorded(user_run.info.run_id)

# Disabled: a fit starts no run.
mlflow.statsmodels.autolog(disable=True)
before = len(client.search_runs([mlflow.get_experiment_by_name("statsmodels").experiment_id]))
sm.OLS(y, X).fit()
after = len(client.search_runs([mlflow.get_experiment_by_name("statsmodels").experiment_id]))
out["disabled_runs_started"] = after - before

with open(sys.argv[3], "w", encoding="utf-8") as f:
    json.dump(out, f, default=str)
