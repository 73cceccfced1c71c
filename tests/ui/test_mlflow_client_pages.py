"""MLflow's links and MLflow 3's logged models in the web UI, with data logged by the official
``mlflow`` client against a real ``mltrail server`` process.

- The "View run at ..." and "View experiment at ..." links the client prints when a run ends
  open that run and that experiment; MLflow's hash links (``/#/experiments/<id>/runs/<id>``,
  ``/#/models/<name>/versions/<v>``, ...) and MLflow 3's path forms open the same pages.
- A model logged with ``mlflow.sklearn.log_model(model, name="model")`` (a logged model,
  ``m-<hex>``) shows on its run's page, in its experiment's "Models" tab and on its own page;
  its registered versions (source ``models:/m-...`` or the model's artifact location) show
  the model's signature.

Screenshots go to ``test-artifacts/ui/`` (look at them).
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from tests.ui._browser import mlflow_against_server, open_page, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
]

mlflow = pytest.importorskip("mlflow")
pytest.importorskip("sklearn")

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
# The names of the signature's inputs in the MLmodel view
_INPUT_NAMES = "h3:text-is('Signature inputs') + table tbody tr td:first-child"


@dataclass
class Logged:
    """What the mlflow client logged, and the links it printed."""

    url: str
    experiment_id: str
    run_id: str
    run_name: str
    model_id: str
    pyfunc_run_id: str
    pyfunc_model_id: str
    printed: str
    view_run: str
    view_experiment: str


def _log_with_mlflow(url: str) -> Logged:
    import mlflow.models
    import mlflow.pyfunc
    import pandas as pd
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    class Adder(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            return model_input + 1

    client = mlflow.MlflowClient()
    mlflow.set_experiment("mlflow3-client")
    x, y = load_iris(return_X_y=True, as_frame=True)
    x.columns = FEATURES
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        with mlflow.start_run(run_name="train-sklearn") as run:
            mlflow.log_params({"C": 0.5, "max_iter": 300})
            model = LogisticRegression(C=0.5, max_iter=300).fit(x, y)
            mlflow.log_metric("accuracy", float(model.score(x, y)))
            signature = mlflow.models.infer_signature(x, model.predict(x))
            info = mlflow.sklearn.log_model(
                model, name="model", signature=signature, registered_model_name="iris-classifier"
            )
        with mlflow.start_run(run_name="pyfunc-adder") as other:
            adder = mlflow.pyfunc.log_model(
                name="adder",
                python_model=Adder(),
                input_example=pd.DataFrame({"x": [1.0, 2.0]}),
            )
    # A second version whose source is the logged model's artifact location (as a client
    # that registers by location, not by models:/ URI, makes it).
    location = client.get_logged_model(info.model_id).artifact_location
    client.create_model_version(
        "iris-classifier", location, run_id=run.info.run_id, model_id=info.model_id
    )
    printed = out.getvalue()
    view_run = re.search(r"View run train-sklearn at: (\S+)", printed)
    view_experiment = re.search(r"View experiment at: (\S+)", printed)
    assert view_run, printed
    assert view_experiment, printed
    return Logged(
        url=url,
        experiment_id=run.info.experiment_id,
        run_id=run.info.run_id,
        run_name="train-sklearn",
        model_id=info.model_id,
        pyfunc_run_id=other.info.run_id,
        pyfunc_model_id=adder.model_id,
        printed=printed,
        view_run=view_run.group(1),
        view_experiment=view_experiment.group(1),
    )


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Logged]:
    with (
        pytest.MonkeyPatch.context() as mp,
        mlflow_against_server(tmp_path_factory.mktemp("mlflow-client-ui")) as url,
    ):
        mp.delenv("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", raising=False)
        yield _log_with_mlflow(url)


@pytest.fixture
def ui(browser: Browser, logged: Logged) -> Iterator[Page]:
    with open_page(browser, logged.url) as pg:
        yield pg


def _path(page: Page) -> str:
    path: str = page.evaluate("location.pathname + location.search + location.hash")
    return path


# -- Point 5: MLflow's links -------------------------------------------------------------------


def test_the_view_run_link_the_client_prints_opens_that_run(ui: Page, logged: Logged) -> None:
    # What MLflow 3's client prints for a tracking server: <uri>/#/experiments/<id>/runs/<id>
    assert logged.view_run == (
        f"{logged.url}/#/experiments/{logged.experiment_id}/runs/{logged.run_id}"
    )
    ui.goto(logged.view_run)
    ui.get_by_test_id("run-title").filter(has_text=logged.run_name).wait_for()
    assert _path(ui) == f"/runs/{logged.run_id}"
    assert logged.run_id in ui.locator(".title-row").first.inner_text()
    screenshot(ui, "mlflow-view-run-link")

    ui.goto(logged.view_experiment)
    ui.get_by_test_id("experiment-title").filter(has_text="mlflow3-client").wait_for()
    assert _path(ui) == f"/experiments/{logged.experiment_id}"


def test_mlflow_links_open_the_same_pages(ui: Page, logged: Logged) -> None:
    e, r, m = logged.experiment_id, logged.run_id, logged.model_id
    cases = [
        # MLflow's hash routes
        (f"/#/experiments/{e}", f"/experiments/{e}", "experiment-title", "mlflow3-client"),
        (f"/#/experiments/{e}/runs", f"/experiments/{e}", "experiment-title", "mlflow3-client"),
        (f"/#/experiments/{e}/runs/{r}", f"/runs/{r}", "run-title", "train-sklearn"),
        ("/#/models/iris-classifier", "/models/iris-classifier", "model-title", "iris-classifier"),
        (
            "/#/models/iris-classifier/versions/1",
            "/models/iris-classifier/versions/1",
            "version-title",
            "iris-classifier v1",
        ),
        (f"/#/experiments/{e}/models", f"/experiments/{e}/models", "model-count", "2 logged"),
        (
            f"/#/experiments/{e}/models/{m}",
            f"/experiments/{e}/models/{m}",
            "logged-model-title",
            "model",
        ),
        # MLflow 3's paths that mltrail names otherwise
        (f"/experiments/{e}/runs/{r}", f"/runs/{r}", "run-title", "train-sklearn"),
        (f"/experiments/{e}/overview", f"/experiments/{e}", "experiment-title", "mlflow3-client"),
    ]
    for link, expected_path, testid, text in cases:
        ui.goto(link)
        ui.get_by_test_id(testid).filter(has_text=text).wait_for()
        assert _path(ui) == expected_path, link

    # A run's artifacts tab, as MLflow 2 and 3 link it
    ui.goto(f"/#/experiments/{e}/runs/{logged.pyfunc_run_id}/artifacts")
    ui.get_by_role("tab", name="Artifacts", exact=True).and_(
        ui.locator("[aria-selected=true]")
    ).wait_for()
    assert _path(ui) == f"/runs/{logged.pyfunc_run_id}?tab=artifacts"


def test_a_link_pasted_into_an_open_page_and_an_unknown_one(ui: Page, logged: Logged) -> None:
    ui.goto(f"/experiments/{logged.experiment_id}")
    ui.get_by_test_id("experiment-title").filter(has_text="mlflow3-client").wait_for()
    # Only the fragment changes: no reload, the router follows it.
    ui.evaluate(
        "h => { location.hash = h; }",
        f"#/experiments/{logged.experiment_id}/runs/{logged.run_id}",
    )
    ui.get_by_test_id("run-title").filter(has_text=logged.run_name).wait_for()
    assert _path(ui) == f"/runs/{logged.run_id}"

    # A page of MLflow's UI that mltrail lacks says so, instead of landing on an experiment.
    ui.goto("/#/prompts/my-prompt")
    notice = ui.get_by_test_id("unknown-mlflow-link")
    notice.wait_for()
    assert "#/prompts/my-prompt" in notice.inner_text()
    screenshot(ui, "mlflow-unknown-link")
    assert _path(ui) == "/#/prompts/my-prompt"


# -- Point 6: MLflow 3's logged models -------------------------------------------------------


def test_the_run_page_lists_its_logged_model(ui: Page, logged: Logged) -> None:
    ui.goto(f"/runs/{logged.run_id}")
    row = ui.locator(f"[data-testid=logged-models-table] tr[data-model-id='{logged.model_id}']")
    row.wait_for()
    text = row.inner_text()
    assert logged.model_id in text
    assert "Ready" in text
    assert "iris-classifier v1" in text  # the version the client registered
    assert ui.get_by_text("No models logged by this run").count() == 0
    # The run's MLflow 3 model is not listed again from the run's log-model history tag.
    assert ui.locator("[data-testid=logged-models-table] tbody tr").count() == 1
    row.scroll_into_view_if_needed()
    screenshot(ui, "mlflow-run-logged-model")
    row.get_by_role("link", name="model", exact=True).click()
    ui.get_by_test_id("logged-model-title").filter(has_text="model").wait_for()
    assert _path(ui) == f"/experiments/{logged.experiment_id}/models/{logged.model_id}"


@pytest.mark.parametrize("version", ["1", "2"], ids=["models-uri", "artifact-location"])
def test_a_registered_version_shows_signature_and_source(
    ui: Page, logged: Logged, version: str
) -> None:
    ui.goto(f"/models/iris-classifier/versions/{version}")
    ui.get_by_test_id("version-title").filter(has_text=f"v{version}").wait_for()
    preview = ui.get_by_test_id("mlmodel-preview")
    preview.wait_for()
    names = preview.locator(_INPUT_NAMES).all_inner_texts()
    assert names == FEATURES  # the signature's inputs, in order
    assert "sklearn" in preview.inner_text()
    assert ui.get_by_text("The source is outside the run's artifacts").count() == 0
    details = ui.locator(".card").filter(has_text="Details").inner_text()
    assert logged.model_id in details
    expected_source = (
        f"models:/{logged.model_id}"
        if version == "1"
        else f"mlflow-artifacts:/{logged.experiment_id}/models/{logged.model_id}/artifacts"
    )
    assert expected_source in details
    if version == "1":
        screenshot(ui, "mlflow-version-signature")
    details_card = ui.locator(".card").filter(has_text="Details")
    details_card.get_by_role("link", name=re.compile("^model \\(")).click()
    ui.get_by_test_id("logged-model-title").wait_for()
    assert _path(ui) == f"/experiments/{logged.experiment_id}/models/{logged.model_id}"


def test_the_experiment_lists_its_logged_models(ui: Page, logged: Logged) -> None:
    ui.goto(f"/experiments/{logged.experiment_id}")
    ui.locator("[role=grid] [role=row][data-run-id]").nth(1).wait_for()
    screenshot(ui, "mlflow-experiment-runs-tab")
    ui.get_by_test_id("experiment-tabs").get_by_role("tab", name="Models").click()
    ui.get_by_test_id("model-count").filter(has_text="2 logged models").wait_for()
    assert _path(ui) == f"/experiments/{logged.experiment_id}/models"
    rows = ui.locator("[data-testid=logged-models-table] tbody tr")
    # Newest first: the pyfunc model was logged after the sklearn one.
    ids = rows.evaluate_all("rs => rs.map(r => r.dataset.modelId)")
    assert ids == [logged.pyfunc_model_id, logged.model_id]
    adder = rows.nth(0).inner_text()
    assert "adder" in adder
    assert "Ready" in adder
    assert logged.pyfunc_run_id[:8] in adder
    screenshot(ui, "mlflow-experiment-models")
    rows.nth(0).get_by_role("link", name=logged.pyfunc_run_id[:8]).click()
    ui.get_by_test_id("run-title").filter(has_text="pyfunc-adder").wait_for()


def test_the_logged_model_page_shows_params_metrics_tags_and_artifacts(
    ui: Page, logged: Logged
) -> None:
    ui.goto(f"/experiments/{logged.experiment_id}/models/{logged.model_id}")
    ui.get_by_test_id("logged-model-title").filter(has_text="model").wait_for()
    # The source run, by name (fetched after the model)
    ui.locator(".overview").get_by_role("link", name="train-sklearn").wait_for()
    page_text = ui.locator(".overview").inner_text()
    params = ui.locator(".card").filter(has=ui.get_by_role("heading", name="Parameters (2)"))
    assert params.inner_text().split() == ["Parameters", "(2)", "C", "0.5", "max_iter", "300"]
    metrics = ui.get_by_test_id("model-metrics-table").inner_text()
    assert "accuracy" in metrics
    assert "mlflow.modelVersions" in page_text  # a tag the client set when it registered
    assert "iris-classifier v1" in page_text
    # v2, registered by location with the model's id (no tag), is found through the source run
    ui.locator(".overview").get_by_role("link", name="iris-classifier v2").wait_for()
    ui.get_by_test_id("mlmodel-preview").wait_for()
    screenshot(ui, "mlflow-logged-model")

    ui.get_by_role("tab", name="Artifacts").click()
    tree = ui.get_by_role("tree", name="Artifacts")
    tree.locator("[data-path='MLmodel']").click()
    ui.get_by_test_id("mlmodel-preview").wait_for()
    assert _path(ui) == (
        f"/experiments/{logged.experiment_id}/models/{logged.model_id}?tab=artifacts"
    )
    tree.locator("[data-path='requirements.txt']").click()
    # The MLmodel text stays on screen until requirements.txt has loaded: wait for it
    ui.get_by_test_id("text-preview").filter(has_text="scikit-learn").wait_for()
    screenshot(ui, "mlflow-logged-model-artifacts")


def test_a_logged_model_registers_from_its_run_page(ui: Page, logged: Logged) -> None:
    ui.goto(f"/runs/{logged.pyfunc_run_id}")
    row = ui.locator(
        f"[data-testid=logged-models-table] tr[data-model-id='{logged.pyfunc_model_id}']"
    )
    row.get_by_role("button", name="Register model").click()
    ui.get_by_label("Registered model name (new or existing)").fill("adder-from-ui")
    ui.get_by_role("button", name="Register", exact=True).click()
    ui.get_by_test_id("version-title").filter(has_text="adder-from-ui v1").wait_for()
    details = ui.locator(".card").filter(has_text="Details")
    details.get_by_role("link", name=re.compile("^adder \\(")).wait_for()
    assert f"models:/{logged.pyfunc_model_id}" in details.inner_text()
    # The pyfunc model's signature, inferred by MLflow from the input example: one input, x
    names = ui.get_by_test_id("mlmodel-preview").locator(_INPUT_NAMES)
    names.first.wait_for()
    assert names.all_inner_texts() == ["x"]
