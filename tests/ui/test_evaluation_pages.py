"""Model evaluations in the web UI (issue 20, point 5), recorded by the official ``mlflow``
client's ``mlflow.evaluate`` against a real ``mltrail server`` process, for scikit-learn models
trained here on generated data: what the pages show is what MLflow records.

- The runs table and a run's header mark the runs that are evaluations, with the dataset.
- A run's Evaluation tab shows the dataset (digest, rows, the evaluated model), the metrics by
  group with which way is better, the plots (enlarged on a click) and the per-row table
  (``eval_results_table.json``, 10,000 rows here) sorted by any column and paged.
- A run evaluated on two datasets (``metric_prefix`` ``val_`` and ``test_``) switches between
  them; a regressor's metrics are grouped as regression errors.
- Evaluated runs compared side by side: the best value of each metric marked (higher or lower
  by metric), differences to a baseline, plots of one name in a row.

Screenshots go to ``test-artifacts/ui/evaluation-*.png`` (look at them).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from tests.ui._browser import (
    ROWS,
    mlflow_against_server,
    open_page,
    screenshot,
    wait_rows,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]

mlflow = pytest.importorskip("mlflow")
pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")  # MLflow draws the evaluation plots with it
pytest.importorskip("shap")  # both draw the explained runs' SHAP plots with it

HOLDOUT_ROWS = 10_000
DASH = "\u2013"  # between the first and last row of a page
# What MLflow 3.17's default evaluator draws for a binary classifier, in the UI's order.
BINARY_PLOTS = [
    "confusion_matrix",
    "roc_curve_plot",
    "precision_recall_curve_plot",
    "lift_curve_plot",
    "calibration_curve_plot",
]
# SHAP's, after the default evaluator's: the logistic regression's run is explained (the
# others are not: time, and SHAP draws one of its three plots for a tree of two classes)
EXPLAINED_PLOTS = [
    *BINARY_PLOTS,
    "shap_beeswarm_plot",
    "shap_summary_plot",
    "shap_feature_importance_plot",
]
MULTICLASS_PLOTS = [
    "confusion_matrix",
    "roc_curve_plot",
    "precision_recall_curve_plot",
    "calibration_curve_plot",
]


@dataclass
class Evaluated:
    run_id: str
    model_id: str
    metrics: dict[str, float]
    digests: dict[str, str] = field(default_factory=dict)  # dataset name -> input digest


@dataclass
class Logged:
    url: str
    experiment_id: str
    runs: dict[str, Evaluated]  # run name -> what evaluate recorded
    plain_id: str
    table: dict[str, Any]  # logreg-holdout's eval_results_table.json
    per_class: list[dict[str, Any]]  # two-splits' per_class_metrics.csv (its last evaluation's)


def _abs_err(predictions: Any, targets: Any, metrics: Any) -> Any:
    from mlflow.metrics import MetricValue

    scores = [float(abs(p - t)) for p, t in zip(predictions, targets, strict=True)]
    return MetricValue(scores=scores, aggregate_results={"mean": sum(scores) / len(scores)})


def _evaluate(
    name: str,
    model: Any,
    *,
    target: str,
    model_type: str,
    datasets: list[tuple[str, Any, str]],
    explain: bool = False,
) -> Evaluated:
    """Log *model* in a run named *name* and evaluate it on each (dataset name, frame, prefix)."""
    import mlflow.data
    from mlflow.metrics import make_metric

    per_row = make_metric(eval_fn=_abs_err, greater_is_better=False, name="abs_err")
    metrics: dict[str, float] = {}
    with mlflow.start_run(run_name=name) as run:
        # A tree's node storage is a type skops asks to be trusted explicitly.
        trusted = ["sklearn.tree._tree.Tree"] if hasattr(model, "tree_") else None
        info = mlflow.sklearn.log_model(model, name="model", skops_trusted_types=trusted)
        for ds_name, frame, prefix in datasets:
            dataset = mlflow.data.from_pandas(frame, targets=target, name=ds_name)
            result = mlflow.evaluate(
                info.model_uri,
                dataset,
                model_type=model_type,
                extra_metrics=[per_row] if model_type == "classifier" else None,
                evaluator_config={
                    "log_model_explainability": explain,
                    **({"metric_prefix": prefix} if prefix else {}),
                },
            )
            metrics.update({k: float(v) for k, v in result.metrics.items()})
    recorded = mlflow.MlflowClient().get_run(run.info.run_id)
    digests = {d.dataset.name: d.dataset.digest for d in recorded.inputs.dataset_inputs}
    return Evaluated(run.info.run_id, info.model_id, metrics, digests)


def _log_evaluations() -> Logged:
    import pandas as pd
    from sklearn.datasets import make_classification, make_regression
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.tree import DecisionTreeClassifier

    experiment_id = mlflow.set_experiment("evaluations").experiment_id
    x, y = make_classification(
        n_samples=2000 + HOLDOUT_ROWS, n_features=5, n_informative=3, random_state=0
    )
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(5)]).assign(label=y)
    train, holdout = frame.iloc[:2000], frame.iloc[2000:].reset_index(drop=True)
    features = train.drop(columns="label")
    logreg = LogisticRegression().fit(features, train.label)
    stump = DecisionTreeClassifier(max_depth=1, random_state=0).fit(features, train.label)
    runs = {
        "logreg-holdout": _evaluate(
            "logreg-holdout",
            logreg,
            target="label",
            model_type="classifier",
            datasets=[("holdout", holdout, "")],
            explain=True,
        ),
        "stump-holdout": _evaluate(
            "stump-holdout",
            stump,
            target="label",
            model_type="classifier",
            datasets=[("holdout", holdout, "")],
        ),
    }
    # Three classes, evaluated on two splits with a prefix each.
    x3, y3 = make_classification(
        n_samples=800, n_features=5, n_informative=3, n_classes=3, random_state=0
    )
    classes = pd.DataFrame(x3, columns=[f"f{i}" for i in range(5)]).assign(label=y3)
    multi = LogisticRegression().fit(classes.iloc[:200].drop(columns="label"), y3[:200])
    runs["two-splits"] = _evaluate(
        "two-splits",
        multi,
        target="label",
        model_type="classifier",
        datasets=[
            ("val-split", classes.iloc[200:500], "val_"),
            ("test-split", classes.iloc[500:800], "test_"),
        ],
    )
    xr, yr = make_regression(n_samples=300, n_features=3, noise=5.0, random_state=0)
    houses = pd.DataFrame(xr, columns=["rooms", "area", "age"]).assign(price=yr)
    ridge = Ridge().fit(houses.drop(columns="price"), houses.price)
    runs["ridge-houses"] = _evaluate(
        "ridge-houses",
        ridge,
        target="price",
        model_type="regressor",
        datasets=[("houses", houses, "")],
    )
    with mlflow.start_run(run_name="plain-training") as plain:
        mlflow.log_metric("accuracy", 0.5)
    client = mlflow.MlflowClient()
    path = client.download_artifacts(runs["logreg-holdout"].run_id, "eval_results_table.json")
    with open(path, encoding="utf-8") as f:
        table = json.load(f)
    path = client.download_artifacts(runs["two-splits"].run_id, "per_class_metrics.csv")
    per_class = pd.read_csv(path).to_dict("records")
    return Logged("", experiment_id, runs, plain.info.run_id, table, per_class)


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Logged]:
    with mlflow_against_server(tmp_path_factory.mktemp("evaluation-ui")) as url:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = _log_evaluations()
            data.url = url
            yield data
        finally:
            mlflow.clear_active_model()  # evaluate made the last model the active one


@pytest.fixture
def ui(browser: Browser, logged: Logged) -> Iterator[Page]:
    with open_page(browser, logged.url) as pg:
        yield pg


def _dark(ui: Page) -> None:
    ui.get_by_test_id("theme-toggle").click()
    assert ui.evaluate("document.documentElement.dataset.theme") == "dark"


def _number(text: str) -> float:
    return float(text.strip().replace("\u2212", "-").replace(",", ""))


def _metric_value(view: Locator, metric: str) -> float:
    return _number(view.locator(f"tr[data-metric='{metric}'] td").inner_text())


def _loaded_images(ui: Page, selector: str) -> list[str]:
    """The src of every image under *selector* once each has loaded (a broken one fails); each
    is scrolled into view first, as the plots load lazily."""
    images = ui.locator(f"{selector} img")
    images.first.wait_for()
    for i in range(images.count()):
        images.nth(i).scroll_into_view_if_needed()
    ui.wait_for_function(
        "sel => [...document.querySelectorAll(sel + ' img')].every(i => i.complete)", arg=selector
    )
    loaded: list[dict[str, Any]] = images.evaluate_all(
        "imgs => imgs.map(i => ({src: i.src, w: i.naturalWidth}))"
    )
    assert all(i["w"] > 100 for i in loaded), loaded
    return [i["src"] for i in loaded]


def _table_column(ui: Page, column: str) -> list[str]:
    """The cells of *column* on the shown page of the per-row table."""
    index: int = ui.eval_on_selector_all(
        "[data-testid=eval-table] thead th",
        "(ths, n) => ths.findIndex(th => th.querySelector('button')?.title === `Sort by ${n}`)",
        column,
    )
    assert index > 0, column
    cells: list[str] = ui.eval_on_selector_all(
        "[data-testid=eval-table] tbody tr",
        "(trs, i) => trs.map(tr => tr.children[i].textContent)",
        index,
    )
    return cells


# -- Marks on the runs table and the run page ---------------------------------------------------


def test_the_runs_table_marks_evaluations_with_their_datasets(ui: Page, logged: Logged) -> None:
    ui.goto(f"/experiments/{logged.experiment_id}")
    wait_rows(ui, 5)

    def badge(run_id: str) -> Locator:
        return ui.locator(f"{ROWS}[data-run-id='{run_id}'] [data-testid=eval-badge]")

    assert badge(logged.runs["logreg-holdout"].run_id).inner_text() == "eval: holdout"
    assert badge(logged.runs["ridge-houses"].run_id).inner_text() == "eval: houses"
    assert badge(logged.runs["two-splits"].run_id).inner_text() == "eval: val-split, test-split"
    assert badge(logged.plain_id).count() == 0
    # The badge names the evaluated model in its tooltip.
    title = badge(logged.runs["logreg-holdout"].run_id).get_attribute("title") or ""
    assert logged.runs["logreg-holdout"].model_id in title
    screenshot(ui, "evaluation-runs-table")
    _dark(ui)
    screenshot(ui, "evaluation-runs-table-dark")
    # The badge opens the run's Evaluation tab.
    badge(logged.runs["two-splits"].run_id).click()
    ui.get_by_role("tab", name="Evaluation (2)", selected=True).wait_for()
    assert ui.get_by_test_id("run-title").inner_text() == "two-splits"


def test_a_plain_run_has_no_evaluation_tab(ui: Page, logged: Logged) -> None:
    ui.goto(f"/runs/{logged.plain_id}")
    ui.get_by_test_id("run-title").filter(has_text="plain-training").wait_for()
    ui.get_by_role("tab", name="Artifacts").wait_for()
    assert ui.get_by_role("tab", name="Evaluation").count() == 0
    assert ui.get_by_test_id("eval-badge").count() == 0


# -- A run's Evaluation tab ----------------------------------------------------------------------


def test_the_run_page_shows_dataset_metrics_and_plots(ui: Page, logged: Logged) -> None:
    run = logged.runs["logreg-holdout"]
    ui.goto(f"/runs/{run.run_id}")
    assert ui.get_by_test_id("eval-badge").inner_text() == "evaluation: holdout"
    ui.get_by_role("tab", name="Evaluation").click()
    view = ui.get_by_test_id("evaluation")
    view.wait_for()

    datasets = view.get_by_test_id("eval-datasets").inner_text()
    assert "holdout" in datasets
    assert run.digests["holdout"] in datasets
    assert f"{HOLDOUT_ROWS:,}" in datasets
    model = view.get_by_test_id("eval-model")
    assert model.inner_text() == run.model_id

    metrics = view.get_by_test_id("eval-metrics")
    groups = metrics.locator("[data-group]").evaluate_all("gs => gs.map(g => g.dataset.group)")
    assert groups[:2] == ["Classification", "Confusion counts"]
    assert "Custom metrics" in groups  # abs_err/mean, the per-row metric's aggregate
    for key in ("accuracy_score", "f1_score", "roc_auc", "log_loss", "true_positives"):
        assert _metric_value(metrics, key) == pytest.approx(run.metrics[key], rel=1e-5), key
    assert _metric_value(metrics, "abs_err/mean") == pytest.approx(
        run.metrics["abs_err/mean"], rel=1e-5
    )
    # Which way is better, per metric
    assert "↑" in metrics.locator("tr[data-metric='roc_auc'] th").inner_text()
    assert "↓" in metrics.locator("tr[data-metric='log_loss'] th").inner_text()
    assert "↑" not in metrics.locator("tr[data-metric='example_count'] th").inner_text()

    plots = view.get_by_test_id("eval-plots")
    plots.wait_for()  # once the run's artifacts are listed
    names = plots.locator("[data-plot]").evaluate_all("fs => fs.map(f => f.dataset.plot)")
    assert names == EXPLAINED_PLOTS
    srcs = _loaded_images(ui, "[data-testid=eval-plots]")
    assert all(run.run_id in s for s in srcs)
    screenshot(ui, "evaluation-run")

    # A click enlarges a plot; the arrow keys step to the next, Escape closes.
    plots.get_by_role("button", name="Enlarge Confusion matrix").click()
    box = ui.get_by_test_id("plot-lightbox")
    assert box.get_by_role("heading").inner_text() == "Confusion matrix"
    assert f"1 of {len(EXPLAINED_PLOTS)}" in box.inner_text()
    _loaded_images(ui, "[data-testid=plot-lightbox]")
    screenshot(ui, "evaluation-plot-enlarged")
    ui.keyboard.press("ArrowRight")
    assert box.get_by_role("heading").inner_text() == "ROC curve"
    ui.keyboard.press("Escape")
    assert box.count() == 0

    _dark(ui)
    view.get_by_test_id("eval-plots").scroll_into_view_if_needed()
    screenshot(ui, "evaluation-run-dark")


def test_the_per_row_table_of_10000_rows_sorts_and_pages(ui: Page, logged: Logged) -> None:
    run = logged.runs["logreg-holdout"]
    columns: list[str] = logged.table["columns"]
    rows: list[list[Any]] = logged.table["data"]
    assert len(rows) == HOLDOUT_ROWS
    assert columns[-3:] == ["label", "outputs", "abs_err/score"]
    ui.goto(f"/runs/{run.run_id}?tab=evaluation")
    table = ui.get_by_test_id("eval-table")
    table.wait_for()
    assert table.get_attribute("data-table") == "eval_results_table.json"
    assert (
        table.get_by_test_id("eval-table-count").inner_text()
        == f"10,000 rows · {len(columns)} columns"
    )
    page_label = table.get_by_test_id("eval-table-page")
    assert page_label.inner_text() == f"1{DASH}50 of 10,000 · page 1 of 200"
    assert table.locator("tbody tr").count() == 50
    # The file's order: the first rows' first feature as logged
    first = [_number(v) for v in _table_column(ui, columns[0])[:3]]
    assert first == pytest.approx([r[0] for r in rows[:3]], rel=1e-4)

    table.get_by_role("button", name="Last page").click()
    assert page_label.inner_text() == f"9,951{DASH}10,000 of 10,000 · page 200 of 200"
    assert table.locator("tbody tr").first.locator("td").first.inner_text() == "9951"

    # Sorting goes back to the first page: ascending, then descending, then the file's order.
    header = table.locator(f"button.sort-head[title='Sort by {columns[0]}']")
    header.click()
    assert page_label.inner_text().startswith(f"1{DASH}50 of 10,000")
    ascending = [_number(v) for v in _table_column(ui, columns[0])]
    assert ascending == sorted(ascending)
    assert ascending[0] == pytest.approx(min(r[0] for r in rows), rel=1e-4)
    header.click()
    descending = [_number(v) for v in _table_column(ui, columns[0])]
    assert descending == sorted(descending, reverse=True)
    assert descending[0] == pytest.approx(max(r[0] for r in rows), rel=1e-4)
    assert table.locator("th[aria-sort=descending]").inner_text().startswith(columns[0])
    header.click()
    assert table.locator("th[aria-sort=descending], th[aria-sort=ascending]").count() == 0

    # The rows the model got wrong first (abs_err 1), then the rest; the count is the metric's sum.
    wrong = sum(1 for r in rows if r[-1] == 1)
    assert wrong == round(run.metrics["abs_err/mean"] * HOLDOUT_ROWS)
    table.locator("button.sort-head[title='Sort by abs_err/score']").click()
    table.locator("button.sort-head[title='Sort by abs_err/score']").click()
    table.get_by_label("Rows per page").select_option("250")
    assert page_label.inner_text() == f"1{DASH}250 of 10,000 · page 1 of 40"
    errors = [_number(v) for v in _table_column(ui, "abs_err/score")]
    assert len(errors) == 250
    assert errors == sorted(errors, reverse=True)
    assert errors.count(1.0) == min(wrong, 250)
    # Each shown row is the file's row of that number, label and output disagreeing.
    numbers = [int(v) for v in table.locator("tbody tr td:first-child").all_inner_texts()[:5]]
    assert all(
        rows[n - 1][-1] == 1 and rows[n - 1][-3] != rows[n - 1][-2]
        for n in numbers[: min(5, wrong)]
    )
    table.scroll_into_view_if_needed()
    screenshot(ui, "evaluation-table-sorted")


def test_a_run_evaluated_on_two_datasets_switches_between_them(ui: Page, logged: Logged) -> None:
    run = logged.runs["two-splits"]
    ui.goto(f"/runs/{run.run_id}")
    ui.get_by_role("tab", name="Evaluation (2)").click()
    switch = ui.get_by_role("group", name="Evaluation")
    switch.wait_for()
    assert switch.get_by_role("button").all_inner_texts() == [
        "test-split (test_)",
        "val-split (val_)",
    ]
    view = ui.get_by_test_id("evaluation")
    assert view.get_attribute("data-prefix") == "test_"
    metrics = view.get_by_test_id("eval-metrics")
    assert _metric_value(metrics, "accuracy_score") == pytest.approx(
        run.metrics["test_accuracy_score"], rel=1e-5
    )
    assert view.get_by_test_id("eval-dataset-name").inner_text() == "test-split"
    assert run.digests["test-split"] in view.get_by_test_id("eval-datasets").inner_text()
    assert "test_" in view.inner_text()  # the metric prefix is said

    switch.get_by_role("button", name="val-split (val_)").click()
    ui.wait_for_function("() => location.search.includes('eval=val_')")
    view = ui.locator("[data-testid=evaluation][data-prefix='val_']")
    metrics = view.get_by_test_id("eval-metrics")
    assert _metric_value(metrics, "accuracy_score") == pytest.approx(
        run.metrics["val_accuracy_score"], rel=1e-5
    )
    assert _metric_value(metrics, "abs_err/mean") == pytest.approx(
        run.metrics["val_abs_err/val_mean"], rel=1e-5
    )
    plots = view.get_by_test_id("eval-plots").locator("[data-plot]")
    assert plots.evaluate_all("fs => fs.map(f => f.dataset.plot)") == MULTICLASS_PLOTS
    srcs = _loaded_images(ui, "[data-testid=eval-plots]")
    assert all("val_" in s and "test_" not in s for s in srcs)
    assert (
        view.get_by_test_id("eval-table").get_attribute("data-table")
        == "val_eval_results_table.json"
    )
    assert view.get_by_test_id("eval-table-count").inner_text().startswith("300 rows")
    screenshot(ui, "evaluation-two-datasets")

    # Three classes: a row per class from per_class_metrics.csv, which MLflow does not
    # prefix (the last evaluation's, as the page says).
    per_class = view.get_by_test_id("eval-per-class")
    per_class.wait_for()
    shown = per_class.locator("tbody tr").evaluate_all("trs => trs.map(t => t.dataset.class)")
    assert shown == [str(r["positive_class"]) for r in logged.per_class]
    heads = per_class.locator("thead th").evaluate_all("ths => ths.map(t => t.title.split(':')[0])")
    column = heads.index("recall_score")
    recalls = per_class.locator(f"tbody tr td:nth-child({column + 1})").all_inner_texts()
    expected = [r["recall_score"] for r in logged.per_class]
    assert [_number(v) for v in recalls] == pytest.approx(expected, rel=1e-5)
    assert "the last evaluation's" in view.inner_text()
    per_class.scroll_into_view_if_needed()
    screenshot(ui, "evaluation-per-class")


def test_a_regressor_evaluation_groups_its_errors(ui: Page, logged: Logged) -> None:
    run = logged.runs["ridge-houses"]
    ui.goto(f"/runs/{run.run_id}?tab=evaluation")
    metrics = ui.get_by_test_id("eval-metrics")
    regression = metrics.locator("[data-group='Regression']")
    regression.wait_for()
    shown = regression.locator("tr").evaluate_all("trs => trs.map(t => t.dataset.metric)")
    assert set(shown) == {
        "mean_absolute_error",
        "mean_squared_error",
        "root_mean_squared_error",
        "max_error",
        "mean_absolute_percentage_error",
        "r2_score",
    }
    assert "↓" in regression.locator("tr[data-metric='mean_absolute_error'] th").inner_text()
    assert "↑" in regression.locator("tr[data-metric='r2_score'] th").inner_text()
    assert _metric_value(metrics, "r2_score") == pytest.approx(run.metrics["r2_score"], rel=1e-5)
    assert metrics.locator("[data-group='Classification']").count() == 0
    # No per-row metric: MLflow writes no table, and the page says why.
    assert ui.get_by_test_id("eval-table").count() == 0
    assert "only when a metric scores each row" in ui.get_by_test_id("evaluation").inner_text()
    # A regressor gets no default plots (SHAP's need the shap package).
    assert "No plots logged." in ui.get_by_test_id("evaluation").inner_text()
    screenshot(ui, "evaluation-regressor")


# -- Comparing evaluated runs ----------------------------------------------------------------------


def test_evaluated_runs_compare_side_by_side(ui: Page, logged: Logged) -> None:
    logreg, stump = logged.runs["logreg-holdout"], logged.runs["stump-holdout"]
    ui.goto(f"/experiments/{logged.experiment_id}")
    wait_rows(ui, 5)
    for run_id in (logreg.run_id, stump.run_id, logged.plain_id):
        ui.locator(f"{ROWS}[data-run-id='{run_id}'] input[aria-label='Select run']").click()
    # Two of the three selected runs are evaluations: only those are compared.
    button = ui.get_by_test_id("compare-evaluations")
    assert button.inner_text() == "Compare evaluations (2)"
    button.click()
    ui.wait_for_function("() => location.search.includes('tab=evaluation')")
    table = ui.get_by_test_id("eval-compare-metrics")
    table.wait_for()
    heads = table.locator("thead th[data-run-id]")
    ids = heads.evaluate_all("ths => ths.map(t => t.dataset.runId)")
    assert sorted(ids) == sorted([logreg.run_id, stump.run_id])
    by_id = {logreg.run_id: logreg, stump.run_id: stump}
    cols = [by_id[i] for i in ids]
    assert "holdout" in heads.first.inner_text()

    def check(metric: str, higher_is_better: bool) -> None:
        row = table.locator(f"tr[data-metric='{metric}']")
        cells = row.locator("td")
        values = [c.metrics[metric] for c in cols]
        shown = [_number(cells.nth(i).locator(".mono").inner_text()) for i in range(2)]
        assert shown == pytest.approx(values, rel=1e-5), metric
        best = max(range(2), key=lambda i: values[i] if higher_is_better else -values[i])
        assert cells.nth(best).get_attribute("data-best") == "true", metric
        assert cells.nth(1 - best).get_attribute("data-best") is None, metric
        diff = cells.nth(1).locator(".eval-diff")
        better = (values[1] > values[0]) == higher_is_better
        assert diff.get_attribute("data-change") == ("better" if better else "worse"), metric
        delta = _number(diff.inner_text().split(" (")[0])
        assert delta == pytest.approx(values[1] - values[0], rel=1e-4, abs=1e-9), metric
        assert "baseline" in cells.nth(0).inner_text()

    assert logreg.metrics["roc_auc"] != stump.metrics["roc_auc"]
    check("roc_auc", higher_is_better=True)
    check("accuracy_score", higher_is_better=True)
    check("log_loss", higher_is_better=False)
    check("false_negatives", higher_is_better=False)
    # A count of rows is neither better nor worse: no best, the difference is none.
    count = table.locator("tr[data-metric='example_count'] td")
    assert count.evaluate_all("tds => tds.filter(t => t.dataset.best).length") == 0
    screenshot(ui, "evaluation-compare")

    # The plots of one name side by side, one per run.
    plots = ui.get_by_test_id("eval-compare-plots")
    rows = plots.locator("[data-plot-row]").evaluate_all("rs => rs.map(r => r.dataset.plotRow)")
    assert rows == EXPLAINED_PLOTS
    srcs = _loaded_images(ui, "[data-plot-row='roc_curve_plot']")
    assert [next(i for i in ids if i in s) for s in srcs] == ids
    plots.locator("[data-plot-row='roc_curve_plot']").get_by_role("button").nth(1).click()
    box = ui.get_by_test_id("plot-lightbox")
    assert box.get_by_role("heading").inner_text() == "ROC curve"
    second_name = "stump-holdout" if ids[1] == stump.run_id else "logreg-holdout"
    assert f"{second_name} · holdout" in box.inner_text()
    ui.keyboard.press("Escape")
    plots.locator("[data-plot-row='roc_curve_plot']").scroll_into_view_if_needed()
    screenshot(ui, "evaluation-compare-plots")

    # Another baseline: its column goes first and the differences turn around.
    ui.get_by_label("Baseline").select_option(index=1)
    first = table.locator("thead th[data-run-id]").first.get_attribute("data-run-id")
    assert first == ids[1]
    diff = table.locator("tr[data-metric='roc_auc'] td").nth(1).locator(".eval-diff")
    values = [by_id[ids[1]].metrics["roc_auc"], by_id[ids[0]].metrics["roc_auc"]]
    assert diff.get_attribute("data-change") == ("better" if values[1] > values[0] else "worse")
    _dark(ui)
    ui.locator(".main").evaluate("main => main.scrollTo(0, 0)")
    screenshot(ui, "evaluation-compare-dark")


def test_compare_across_datasets_and_prefixes(ui: Page, logged: Logged) -> None:
    logreg, splits = logged.runs["logreg-holdout"], logged.runs["two-splits"]
    ui.goto(f"/compare?runs={logreg.run_id},{splits.run_id}&tab=evaluation")
    table = ui.get_by_test_id("eval-compare-metrics")
    table.wait_for()
    labels = table.locator("thead .eval-col-label").all_inner_texts()
    assert labels == ["holdout", "test-split (test_)", "val-split (val_)"]
    # Metrics meet by name without their prefix.
    cells = table.locator("tr[data-metric='accuracy_score'] td .mono").all_inner_texts()
    expected = [
        logreg.metrics["accuracy_score"],
        splits.metrics["test_accuracy_score"],
        splits.metrics["val_accuracy_score"],
    ]
    assert [_number(c) for c in cells] == pytest.approx(expected, rel=1e-5)
    assert not math.isclose(expected[1], expected[2])

    ui.get_by_label("Dataset").select_option("val-split")
    labels = table.locator("thead .eval-col-label").all_inner_texts()
    assert labels == ["val-split (val_)"]
    assert ui.get_by_test_id("not-on-dataset").inner_text() == (
        "Not evaluated on val-split: logreg-holdout"
    )
    srcs = _loaded_images(ui, "[data-testid=eval-compare-plots]")
    assert all("val_" in s for s in srcs)
    ui.locator(".main").evaluate("main => main.scrollTo(0, 0)")
    screenshot(ui, "evaluation-compare-datasets")


def test_an_evaluation_recorded_by_mltrail_shows_the_same(ui: Page, logged: Logged) -> None:
    """``mltrail.evaluate`` (not MLflow's) records what the pages read: the same tab, groups,
    metric values and plots."""
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    import mltrail

    x, y = make_classification(n_samples=1500, n_features=4, random_state=1)
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(4)]).assign(label=y)
    model = LogisticRegression().fit(frame.iloc[:1000].drop(columns="label"), y[:1000])
    holdout = frame.iloc[1000:].reset_index(drop=True)
    previous = mltrail.get_tracking_uri()
    mltrail.set_tracking_uri(logged.url)
    try:
        mltrail.set_experiment("evaluations")
        with mltrail.start_run(run_name="mltrail-evaluated") as run:
            info = mltrail.sklearn.log_model(model, "model")
            dataset = mltrail.data.from_pandas(holdout, targets="label", name="mltrail-holdout")
            result = mltrail.evaluate(info.model_uri, dataset, model_type="classifier")
    finally:
        mltrail.set_tracking_uri(previous)
    ui.goto(f"/runs/{run.info.run_id}")
    assert ui.get_by_test_id("eval-badge").inner_text() == "evaluation: mltrail-holdout"
    ui.get_by_role("tab", name="Evaluation").click()
    view = ui.get_by_test_id("evaluation")
    view.wait_for()
    assert "mltrail-holdout" in view.get_by_test_id("eval-datasets").inner_text()
    metrics = view.get_by_test_id("eval-metrics")
    groups = metrics.locator("[data-group]").evaluate_all("gs => gs.map(g => g.dataset.group)")
    assert groups[:2] == ["Classification", "Confusion counts"]
    for key in ("accuracy_score", "roc_auc", "log_loss", "true_positives"):
        assert _metric_value(metrics, key) == pytest.approx(result.metrics[key], rel=1e-5), key
    plots = view.get_by_test_id("eval-plots")
    plots.wait_for()
    names = plots.locator("[data-plot]").evaluate_all("fs => fs.map(f => f.dataset.plot)")
    assert names == EXPLAINED_PLOTS
    _loaded_images(ui, "[data-testid=eval-plots]")
    screenshot(ui, "evaluation-by-mltrail")
