"""Autologged runs in the web UI (issue 17, point 8), logged by the official ``mlflow`` client's
autologging against a real ``mltrail server`` process: what the pages show is what users of
``mlflow.sklearn.autolog()`` and ``mlflow.xgboost.autolog()`` will see.

- A ``GridSearchCV`` parent run lists its child runs (one per candidate) under it, expandable.
- The run page shows which integration autologged it (the ``mlflow.autologging`` tag), and a
  child run names its parent.
- XGBoost's ``feature_importance_<type>.json`` is drawn as horizontal bars, largest first, the
  top 30, with a switch to the JSON.
- The training plots (PNG) and ``cv_results.csv`` preview as an image and a table.

Screenshots go to ``test-artifacts/ui/autolog-*.png`` (look at them).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from tests.ui._browser import (
    ROWS,
    mlflow_against_server,
    open_page,
    row_names,
    screenshot,
    wait_rows,
)

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
pytest.importorskip("xgboost")

CANDIDATES = [0.1, 1.0, 10.0]  # GridSearchCV's C values: one child run each
XGB_FEATURES = 40  # more than the chart's 30 bars
XGB_ROUNDS = 12


@dataclass
class Logged:
    url: str
    experiment_id: str
    parent_id: str
    parent_name: str
    children: dict[str, str]  # run name -> run id
    xgb_id: str
    importance: dict[str, dict[str, float]]  # importance type -> feature -> value, as logged


def _log_with_mlflow_autolog() -> Logged:
    import pandas as pd
    import xgboost as xgb
    from sklearn.datasets import load_breast_cancer, make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    experiment_id = mlflow.set_experiment("autologged").experiment_id
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    x = x.iloc[:, :6]  # six features: LogisticRegression converges fast, the plots still come
    # Models are left out (MLflow 3 logs them as logged models, shown by other tests); the runs,
    # their metrics, plots and tables are what the pages here show.
    mlflow.sklearn.autolog(log_models=False, log_datasets=False, silent=True)
    GridSearchCV(LogisticRegression(max_iter=300), {"C": CANDIDATES}, cv=2).fit(x, y)
    mlflow.sklearn.autolog(disable=True)

    features, labels = make_classification(
        n_samples=400, n_features=XGB_FEATURES, n_informative=30, random_state=0
    )
    frame = pd.DataFrame(features, columns=[f"feature_{i:02d}" for i in range(XGB_FEATURES)])
    mlflow.xgboost.autolog(
        log_models=False, log_datasets=False, importance_types=["weight", "gain"], silent=True
    )
    train = xgb.DMatrix(frame, label=labels)
    xgb.train(
        {"objective": "binary:logistic", "max_depth": 4, "seed": 0},
        train,
        num_boost_round=XGB_ROUNDS,
        evals=[(train, "train")],
        verbose_eval=False,
    )
    mlflow.xgboost.autolog(disable=True)

    client = mlflow.MlflowClient()
    runs = client.search_runs([experiment_id])
    by_flavor = {r.info.run_id: r.data.tags.get("mlflow.autologging") for r in runs}
    assert set(by_flavor.values()) == {"sklearn", "xgboost"}, by_flavor
    parent = next(r for r in runs if r.data.tags.get("estimator_name") == "GridSearchCV")
    children = {
        r.info.run_name: r.info.run_id
        for r in runs
        if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id
    }
    assert len(children) == len(CANDIDATES)
    xgb_run = next(r for r in runs if by_flavor[r.info.run_id] == "xgboost")
    importance = {}
    for kind in ("weight", "gain"):
        path = client.download_artifacts(xgb_run.info.run_id, f"feature_importance_{kind}.json")
        with open(path, encoding="utf-8") as f:
            importance[kind] = json.load(f)
    return Logged(
        url="",
        experiment_id=experiment_id,
        parent_id=parent.info.run_id,
        parent_name=parent.info.run_name,
        children=children,
        xgb_id=xgb_run.info.run_id,
        importance=importance,
    )


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Logged]:
    # Autologging's own requirement inference is what these runs record: not replaced.
    tmp = tmp_path_factory.mktemp("autolog-ui")
    with mlflow_against_server(tmp, infer_requirements=True) as url:
        try:
            # Autologging reports its own troubles as warnings; here they would be errors
            # raised inside the patched fit (where MLflow swallows them, logging less).
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = _log_with_mlflow_autolog()
            data.url = url
            yield data
        finally:
            mlflow.autolog(disable=True)


@pytest.fixture
def ui(browser: Browser, logged: Logged) -> Iterator[Page]:
    with open_page(browser, logged.url) as pg:
        yield pg


def _artifact(ui: Page, run_id: str, path: str) -> None:
    ui.goto(f"/runs/{run_id}?tab=artifacts")
    ui.get_by_role("tree", name="Artifacts").locator(f"[data-path='{path}']").click()


def test_grid_search_children_are_nested_under_their_parent(ui: Page, logged: Logged) -> None:
    ui.goto(f"/experiments/{logged.experiment_id}")
    wait_rows(ui, 2)  # the search's parent and the xgboost run; the children are folded
    assert logged.parent_name in row_names(ui)
    assert not set(logged.children) & set(row_names(ui))
    parent_row = ui.locator(f"{ROWS}[data-run-id='{logged.parent_id}']")
    assert f"({len(CANDIDATES)})" in parent_row.inner_text()

    parent_row.get_by_role("button", name="Expand child runs").click()
    wait_rows(ui, 2 + len(CANDIDATES))
    names = row_names(ui)
    at = names.index(logged.parent_name)
    assert sorted(names[at + 1 : at + 1 + len(CANDIDATES)]) == sorted(logged.children)
    for child_id in logged.children.values():
        child = ui.locator(f"{ROWS}[data-run-id='{child_id}']")
        assert child.locator(".child-indent").count() == 1
        assert child.get_by_role("button", name="Expand child runs").count() == 0
    screenshot(ui, "autolog-runs-nested")

    parent_row.get_by_role("button", name="Collapse child runs").click()
    wait_rows(ui, 2)


def test_the_run_page_says_what_autologged_it(ui: Page, logged: Logged) -> None:
    ui.goto(f"/runs/{logged.parent_id}")
    badge = ui.get_by_test_id("autolog-badge")
    assert badge.inner_text() == "autologged: sklearn"
    assert "GridSearchCV" in (badge.get_attribute("title") or "")
    # The search's children are listed on its page
    children = ui.locator(".card").filter(has=ui.get_by_role("heading", name="Child runs"))
    children.get_by_role("link", name=next(iter(logged.children))).wait_for()
    screenshot(ui, "autolog-run-parent")

    name, child_id = next(iter(logged.children.items()))
    ui.goto(f"/runs/{child_id}")
    ui.get_by_test_id("run-title").filter(has_text=name).wait_for()
    assert ui.get_by_test_id("autolog-badge").inner_text() == "autologged: sklearn"
    # The child names its parent (by name once loaded) and links to it
    parent = ui.get_by_test_id("parent-run").filter(has_text=logged.parent_name)
    parent.wait_for()
    screenshot(ui, "autolog-run-child")
    parent.click()
    ui.get_by_test_id("run-title").filter(has_text=logged.parent_name).wait_for()

    ui.goto(f"/runs/{logged.xgb_id}")
    assert ui.get_by_test_id("autolog-badge").inner_text() == "autologged: xgboost"
    # XGBoost's per-iteration metric: one point a boosting round, steps 0..rounds-1
    row = ui.get_by_test_id("metrics-table").locator("tr").filter(has_text="train-logloss")
    ui.wait_for_function("r => r.cells[4].textContent !== ''", arg=row.element_handle())
    cells = row.locator("td").all_inner_texts()
    assert cells[4] == str(XGB_ROUNDS)  # points
    assert cells[5] == str(XGB_ROUNDS - 1)  # the latest step


@pytest.mark.parametrize("kind", ["weight", "gain"])
def test_feature_importance_is_a_bar_chart(ui: Page, logged: Logged, kind: str) -> None:
    logged_values = logged.importance[kind]
    assert len(logged_values) > 30  # so the chart shows the top 30 only
    # Largest first; equal values in the file's order (a stable sort, as the UI's)
    expected = sorted(logged_values.items(), key=lambda kv: -kv[1])[:30]

    _artifact(ui, logged.xgb_id, f"feature_importance_{kind}.json")
    chart = ui.get_by_test_id("importance-chart")
    chart.wait_for()
    bars = chart.get_by_test_id("importance-bar")
    assert bars.count() == 30
    shown = bars.evaluate_all(
        "bs => bs.map(b => [b.dataset.feature, Number(b.dataset.value),"
        " b.querySelector('.importance-fill').getBoundingClientRect().width])"
    )
    assert [(f, v) for f, v, _ in shown] == [(f, pytest.approx(v)) for f, v in expected]
    widths = [w for _, _, w in shown]
    assert widths == sorted(widths, reverse=True)
    assert widths[0] > 200  # the largest bar spans its track (the preview is ~800 px wide)
    caption = chart.locator("figcaption").inner_text()
    assert f"Feature importance ({kind})" in caption
    assert f"top 30 of {len(logged_values)}" in caption
    screenshot(ui, f"autolog-importance-{kind}")

    # The switch to the JSON as logged, and back
    ui.get_by_role("button", name="JSON", exact=True).click()
    text = ui.get_by_test_id("text-preview")
    text.wait_for()
    assert json.loads(text.inner_text()) == pytest.approx(logged_values)
    assert chart.count() == 0
    if kind == "weight":
        screenshot(ui, "autolog-importance-json")
    ui.get_by_role("button", name="Chart", exact=True).click()
    chart.wait_for()


def test_training_plots_preview_as_images(ui: Page, logged: Logged) -> None:
    for name in (
        "training_confusion_matrix.png",
        "training_roc_curve.png",
        "training_precision_recall_curve.png",
    ):
        _artifact(ui, logged.parent_id, name)
        image = ui.locator(f"[data-testid=image-preview][alt='{name}']")
        image.wait_for()
        ui.wait_for_function(
            "el => el.complete && el.naturalWidth > 100", arg=image.element_handle()
        )
    screenshot(ui, "autolog-training-plot")


def test_cv_results_preview_as_a_table(ui: Page, logged: Logged) -> None:
    _artifact(ui, logged.parent_id, "cv_results.csv")
    table = ui.get_by_test_id("csv-preview")
    table.wait_for()
    head = table.locator("thead th").all_inner_texts()
    for column in ("mean_fit_time", "param_C", "params", "mean_test_score", "rank_test_score"):
        assert column in head
    rows = table.locator("tbody tr")
    assert rows.count() == len(CANDIDATES)
    # pandas writes floats in full; the preview shows six significant digits, the full value
    # on hover
    cell = rows.first.locator("td").nth(head.index("mean_test_score"))
    full = cell.get_attribute("title") or cell.inner_text()
    assert float(cell.inner_text()) == pytest.approx(float(full), rel=1e-5)
    assert len(cell.inner_text()) <= 10
    params = [rows.nth(i).locator("td").nth(head.index("param_C")).inner_text() for i in range(3)]
    assert sorted(float(p) for p in params) == CANDIDATES
    screenshot(ui, "autolog-cv-results")
