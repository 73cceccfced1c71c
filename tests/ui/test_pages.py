"""The web UI in a real browser: a real ``mltrail server`` on a temp SQLite store filled through
the Python API, driven by Playwright with Debian's Chromium.

Chromium (``/usr/bin/chromium``), Playwright for Python and the built UI are required under
``CI=true`` (a missing one fails the test); locally a missing one skips with the reason.
Screenshots of the main pages go to ``test-artifacts/ui/`` (look at them).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from tests.ui._browser import ROWS, Server, canvas_ink, missing, row_names, screenshot, wait_rows

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.slow


def test_experiment_page_shows_runs_with_data(page: Page, server: Server) -> None:
    d = server.data
    cols = "attr:run_name,attr:status,attr:start_time,param:optimizer,metric:acc"
    page.goto(f"/experiments/{d.experiment_id}?cols={cols}")
    page.get_by_test_id("experiment-title").filter(has_text="vision-sweep").wait_for()
    wait_rows(page, 9)  # 8 trials and the long-history run; the folds nest under trial-0
    assert set(row_names(page)) == {*d.runs, "long-history"}
    row = page.locator(f"{ROWS}[data-run-id='{d.runs['trial-3']}']")
    assert row.locator("[data-col='param:optimizer']").inner_text() == "rmsprop"
    assert float(row.locator("[data-col='metric:acc']").inner_text()) == pytest.approx(
        d.acc["trial-3"], rel=1e-4
    )
    assert "Finished" in row.inner_text()
    # The sidebar lists both experiments.
    assert page.get_by_test_id("experiment-item").count() >= 2
    screenshot(page, "experiment-runs")


def test_nested_runs_expand_under_their_parent(page: Page, server: Server) -> None:
    d = server.data
    page.goto(f"/experiments/{d.experiment_id}")
    wait_rows(page, 9)
    page.get_by_role("button", name="Expand child runs").click()
    wait_rows(page, 11)
    names = row_names(page)
    i = names.index("trial-0")
    assert sorted(names[i + 1 : i + 3]) == ["fold-0", "fold-1"]


def test_sorting_by_a_metric_changes_the_order(page: Page, server: Server) -> None:
    d = server.data
    page.goto(f"/experiments/{d.experiment_id}?cols=attr:run_name,metric:acc")
    wait_rows(page, 9)
    header = page.locator("[role=columnheader][data-col='metric:acc']")
    header.click()  # metrics sort descending first
    expected = sorted(d.acc, key=lambda n: d.acc[n], reverse=True)
    page.wait_for_function(
        "([sel, first]) => document.querySelector(sel + ' a')?.textContent === first",
        arg=[ROWS, expected[0]],
    )
    assert row_names(page)[: len(expected)] == expected
    assert "sort=-metric" in page.url
    header.click()
    page.wait_for_function(
        "([sel, first]) => document.querySelector(sel + ' a')?.textContent === first",
        arg=[ROWS, expected[-1]],
    )
    assert header.get_attribute("aria-sort") == "ascending"
    screenshot(page, "experiment-sorted")


def test_filter_with_or_and_parentheses_narrows_rows(page: Page, server: Server) -> None:
    d = server.data
    page.goto(f"/experiments/{d.experiment_id}")
    wait_rows(page, 9)
    box = page.get_by_label("Filter runs")
    box.fill("params.optimizer = 'rmsprop' OR (params.optimizer = 'sgd' AND tags.team = 'vision')")
    box.press("Enter")
    expected = {
        n
        for n, opt in d.optimizer.items()
        if opt == "rmsprop" or (opt == "sgd" and int(n.split("-")[1]) % 2 == 1)
    }
    wait_rows(page, len(expected))
    assert set(row_names(page)) == expected
    assert "q=" in page.url
    # The URL holds the filter: a reload shows the same rows.
    page.reload()
    wait_rows(page, len(expected))
    screenshot(page, "experiment-filtered")


def test_bad_filter_shows_the_servers_message(page: Page, server: Server) -> None:
    page.goto(f"/experiments/{server.data.experiment_id}")
    wait_rows(page, 9)
    box = page.get_by_label("Filter runs")
    box.fill("metrics.acc > ")
    box.press("Enter")
    alert = page.get_by_role("alert")
    alert.wait_for()
    text = alert.inner_text()
    assert "Bad filter" in text
    assert re.search(r"position \d+", text), text
    screenshot(page, "experiment-bad-filter")


def test_filter_autocompletes_keys(page: Page, server: Server) -> None:
    page.goto(f"/experiments/{server.data.experiment_id}")
    wait_rows(page, 9)
    box = page.get_by_label("Filter runs")
    box.click()
    box.type("params.opt")
    options = page.get_by_role("option")
    options.first.wait_for()
    assert "params.optimizer" in options.all_inner_texts()[0]
    box.press("Tab")
    assert box.input_value() == "params.optimizer "
    # then operators
    assert "=" in [t.split("\n")[0] for t in page.get_by_role("option").all_inner_texts()]


def test_select_runs_and_export_csv(page: Page, server: Server) -> None:
    d = server.data
    page.goto(f"/experiments/{d.experiment_id}?cols=attr:run_name,param:optimizer,metric:acc")
    wait_rows(page, 9)
    for name in ("trial-1", "trial-2"):
        page.locator(f"{ROWS}[data-run-id='{d.runs[name]}'] input[type=checkbox]").click()
    page.get_by_test_id("selection-bar").filter(has_text="2 selected").wait_for()
    assert "sel=" in page.url
    with page.expect_download() as info:
        page.get_by_role("button", name="Export CSV").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["run_id", "run_name", "params.optimizer", "metrics.acc"]
    by_id = {r[0]: r for r in rows[1:]}
    assert set(by_id) == {d.runs["trial-1"], d.runs["trial-2"]}
    assert by_id[d.runs["trial-1"]][2] == "sgd"
    assert float(by_id[d.runs["trial-2"]][3]) == pytest.approx(d.acc["trial-2"])


def test_run_page_overview(page: Page, server: Server) -> None:
    d = server.data
    page.goto(f"/runs/{d.parent}")
    page.get_by_test_id("run-title").filter(has_text="trial-0").wait_for()
    assert page.locator(".markdown strong").inner_text() == "first"
    table = page.get_by_test_id("metrics-table")
    # Min and max over the whole history come from one-bucket series requests.
    acc = table.locator("tr", has=page.locator("td", has_text=re.compile(r"^acc$")))
    acc.locator("td").nth(4).filter(has_text="120").wait_for()
    cells = acc.locator("td").all_inner_texts()
    assert float(cells[1]) == pytest.approx(d.acc["trial-0"], rel=1e-4)
    assert float(cells[2]) == pytest.approx(0.5)  # min: the first step
    assert float(cells[3]) == pytest.approx(d.acc["trial-0"], rel=1e-4)  # max: the last
    assert "loss" in table.inner_text()
    assert "fold-0" in page.locator(".card", has_text="Child runs").inner_text()
    datasets = page.locator(".card", has_text="Datasets (1)").inner_text()
    assert "digits-train" in datasets
    assert "training" in datasets
    models = page.locator(".card", has_text="Logged model")
    assert "sklearn" in models.inner_text()
    assert models.get_by_role("button", name="Register model").count() == 1
    assert page.get_by_role("tab", name="System metrics (1)").count() == 1
    screenshot(page, "run-overview")
    page.get_by_role("tab", name="System metrics (1)").click()
    host = "[data-metric='system/cpu_utilization_percentage'] .chart-host"
    page.wait_for_function(f'() => Number(document.querySelector("{host}")?.dataset.points) === 5')
    screenshot(page, "run-system-metrics")


def test_run_tags_are_editable(page: Page, server: Server) -> None:
    d = server.data
    page.goto(f"/runs/{d.runs['trial-5']}")
    page.get_by_label("Tag key").fill("reviewed")
    page.get_by_label("Tag value").fill("yes")
    page.get_by_role("button", name="Set tag").click()
    page.get_by_test_id("tags-table").filter(has_text="reviewed").wait_for()
    run = server.api("GET", "runs/get", params={"run_id": d.runs["trial-5"]}).json()["run"]
    assert {"key": "reviewed", "value": "yes"} in run["data"]["tags"]


def test_run_chart_draws_points(page: Page, server: Server) -> None:
    d = server.data
    page.goto(f"/runs/{d.parent}?tab=metrics")
    chart = page.locator("[data-testid=chart][data-metric='acc'] .chart-host")
    chart.locator("canvas").wait_for()
    page.wait_for_function(
        "() => Number(document.querySelector(\"[data-metric='acc'] .chart-host\")"
        "?.dataset.points) > 0"
    )
    assert int(chart.get_attribute("data-points") or 0) == 120
    assert canvas_ink(page, "[data-metric='acc'] .chart-host") > 500
    screenshot(page, "run-charts")


def test_long_history_is_reduced_and_zoom_refetches(page: Page, server: Server) -> None:
    asked: list[dict[str, Any]] = []

    def on_request(r: Any) -> None:
        if r.url.endswith(("/metrics/series", "/metrics/series-packed")) and r.method == "POST":
            asked.append(r.post_data_json)
        assert "get-history" not in r.url, f"a page asked for a whole history: {r.url}"

    page.on("request", on_request)
    page.goto(f"/runs/{server.data.long_run}?tab=metrics")
    host = "[data-metric='wave'] .chart-host"
    page.wait_for_function(f'() => Number(document.querySelector("{host}")?.dataset.points) > 0')
    points = int(page.locator(host).get_attribute("data-points") or 0)
    assert asked, "the chart did not use the series endpoint"
    buckets = asked[-1]["max_buckets"]
    assert 0 < points <= buckets < 30000, "the chart got more points than pixels"
    assert "start_step" not in asked[-1] or asked[-1]["start_step"] is None
    assert canvas_ink(page, host) > 500
    # Drag a selection over the plot: the chart asks again for the zoomed step range.
    box = page.locator(f"{host} .u-over").bounding_box()
    assert box is not None
    before = len(asked)
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.3, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.4, y, steps=5)
    page.mouse.up()
    page.get_by_text("reset zoom").wait_for()
    for _ in range(100):
        if len(asked) > before:
            break
        page.wait_for_timeout(50)
    page.wait_for_timeout(300)
    assert len(asked) > before
    zoom = asked[-1]
    assert 8000 < zoom["start_step"] < zoom["end_step"] < 13000, zoom
    # Zoomed in, the same pixels hold a tenth of the steps: still reduced, still bounded.
    assert int(page.locator(host).get_attribute("data-points") or 0) <= zoom["max_buckets"]
    screenshot(page, "run-long-history-zoomed")


def test_artifact_previews_image_and_csv(page: Page, server: Server) -> None:
    d = server.data
    page.goto(f"/runs/{d.parent}?tab=artifacts")
    page.locator(".tree-item[data-path='predictions.csv']").click()
    table = page.get_by_test_id("csv-preview")
    table.wait_for()
    assert "bird, small" in table.inner_text()
    assert table.locator("tbody tr").count() == 3
    screenshot(page, "artifacts-csv")
    page.locator(".tree-item[data-path='plots']").click()
    page.locator(".tree-item[data-path='plots/confusion.png']").click()
    img = page.get_by_test_id("image-preview")
    img.wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=image-preview]')?.naturalWidth === 48"
    )
    screenshot(page, "artifacts-image")
    page.locator(".tree-item[data-path='config.json']").click()
    page.get_by_test_id("text-preview").filter(has_text='"layers"').wait_for()


def test_artifact_previews_html_mlmodel_and_folder_download(page: Page, server: Server) -> None:
    d = server.data
    page.goto(f"/runs/{d.parent}?tab=artifacts")
    page.locator(".tree-item[data-path='report.html']").click()
    frame = page.get_by_test_id("html-preview")
    frame.wait_for()
    assert frame.get_attribute("sandbox") == ""  # no scripts, no same origin
    assert page.frame_locator("[data-testid=html-preview]").locator("h1").inner_text() == "Report"
    assert page.evaluate("window.pwned") is None
    page.locator(".tree-item[data-path='model']").click()
    page.locator(".tree-item[data-path='model/MLmodel']").click()
    mlmodel = page.get_by_test_id("mlmodel-preview")
    mlmodel.wait_for()
    text = mlmodel.inner_text()
    assert "sklearn" in text
    assert "sepal_length" in text
    assert "double" in text
    screenshot(page, "artifacts-mlmodel")
    # A folder downloads as a zip made in the page from the files the server streams.
    page.locator(".tree-item[data-path='model']").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download folder (.zip)").click()
    with zipfile.ZipFile(info.value.path()) as z:
        assert sorted(z.namelist()) == ["model/MLmodel", "model/requirements.txt"]
        assert z.read("model/requirements.txt") == b"scikit-learn==1.5.0\n"


def test_compare_view(page: Page, server: Server) -> None:
    d = server.data
    ids = ",".join(d.runs[n] for n in ("trial-0", "trial-1", "trial-2", "trial-3"))
    page.goto(f"/compare?runs={ids}&group=optimizer")
    host = "[data-metric='acc'] .chart-host"
    page.wait_for_function(f'() => Number(document.querySelector("{host}")?.dataset.points) > 0')
    assert canvas_ink(page, host) > 500
    screenshot(page, "compare-charts")
    page.get_by_role("tab", name="Table").click()
    diff = page.get_by_test_id("diff-table")
    assert diff.locator("tr.differs", has_text="optimizer").count() == 1
    screenshot(page, "compare-table")
    page.get_by_role("tab", name="Parallel coordinates").click()
    assert page.get_by_test_id("parallel").locator("polyline").count() == 4


def test_experiments_create_rename_delete_restore(page: Page, server: Server) -> None:
    page.goto(f"/experiments/{server.data.empty_experiment_id}")
    page.get_by_text("No runs in this experiment yet").wait_for()
    page.get_by_role("button", name="+ New").click()
    page.get_by_label("Name").fill("made-in-the-browser")
    page.get_by_role("button", name="Create").click()
    page.get_by_test_id("experiment-title").filter(has_text="made-in-the-browser").wait_for()
    item = page.get_by_test_id("experiment-item").filter(has_text="made-in-the-browser")
    item.hover()
    item.get_by_role("button", name="Rename").click()
    page.get_by_label("New name").fill("renamed-in-the-browser")
    page.get_by_role("dialog").get_by_role("button", name="Rename").click()
    page.get_by_test_id("experiment-item").filter(has_text="renamed-in-the-browser").wait_for()
    page.on("dialog", lambda dlg: dlg.accept())
    item = page.get_by_test_id("experiment-item").filter(has_text="renamed-in-the-browser")
    item.hover()
    item.get_by_role("button", name="Delete").click()
    item.wait_for(state="detached")
    page.get_by_label("Show deleted").check()
    deleted = page.get_by_test_id("experiment-item").filter(has_text="renamed-in-the-browser")
    deleted.hover()
    deleted.get_by_role("button", name="Restore").click()
    page.get_by_label("Show deleted").uncheck()
    page.get_by_test_id("experiment-item").filter(has_text="renamed-in-the-browser").wait_for()
    page.get_by_placeholder("Search experiments").fill("renamed")
    assert page.get_by_test_id("experiment-item").count() == 1


def test_dark_theme_is_remembered(page: Page, server: Server) -> None:
    page.goto(f"/experiments/{server.data.experiment_id}?cols=attr:run_name,metric:acc,metric:loss")
    wait_rows(page, 9)
    page.get_by_test_id("theme-toggle").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.reload()
    wait_rows(page, 9)
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    screenshot(page, "experiment-runs-dark")
    page.goto(f"/runs/{server.data.parent}?tab=metrics")
    page.wait_for_function(
        "() => Number(document.querySelector(\"[data-metric='acc'] .chart-host\")"
        "?.dataset.points) > 0"
    )
    screenshot(page, "run-charts-dark")


def test_keyboard_navigation_opens_a_run(page: Page, server: Server) -> None:
    page.goto(f"/experiments/{server.data.experiment_id}")
    wait_rows(page, 9)
    grid = page.get_by_role("grid", name="Runs")
    grid.focus()
    grid.press("ArrowDown")
    grid.press("x")
    assert "sel=" in page.url
    grid.press("Enter")
    page.get_by_test_id("run-title").wait_for()
    assert "/runs/" in page.url


def test_min_max_columns_and_column_chooser(page: Page, server: Server) -> None:
    d = server.data
    page.goto(f"/experiments/{d.experiment_id}?cols=attr:run_name")
    wait_rows(page, 9)
    page.get_by_role("button", name=re.compile(r"^Columns")).click()
    chooser = page.get_by_role("dialog", name="Choose columns")
    acc = chooser.locator("div", has=page.locator("span.mono", has_text=re.compile(r"^acc$"))).last
    acc.get_by_text("min").click()
    acc.get_by_text("max").click()
    assert "metricmin%3Aacc" in page.url or "metricmin:acc" in page.url
    row = page.locator(f"{ROWS}[data-run-id='{d.runs['trial-4']}']")
    cell = row.locator("[data-col='metricmax:acc']")
    page.wait_for_function(
        "(sel) => document.querySelector(sel)?.textContent !== ''",
        arg=f"{ROWS}[data-run-id='{d.runs['trial-4']}'] [data-col='metricmax:acc']",
    )
    assert float(cell.inner_text()) == pytest.approx(d.acc["trial-4"], rel=1e-4)
    assert float(row.locator("[data-col='metricmin:acc']").inner_text()) == pytest.approx(0.504)
    # Sorting on the min column is done by the server.
    page.keyboard.press("Escape")
    page.locator("[role=columnheader][data-col='metricmax:acc']").click()
    best = max(d.acc, key=lambda n: d.acc[n])
    page.wait_for_function(
        "([sel, first]) => document.querySelector(sel + ' a')?.textContent === first",
        arg=[ROWS, best],
    )
    screenshot(page, "experiment-min-max-columns")


def test_running_runs_update_live(page: Page, server: Server) -> None:
    d = server.data
    created = server.api(
        "POST", "runs/create", json={"experiment_id": d.empty_experiment_id, "run_name": "live"}
    ).json()["run"]["info"]
    run_id = created["run_id"]
    metric = {"run_id": run_id, "key": "progress", "value": 1, "timestamp": 0, "step": 0}
    server.api("POST", "runs/log-metric", json=metric)
    page.goto(
        f"/experiments/{d.empty_experiment_id}?cols=attr:run_name,attr:status,metric:progress"
    )
    cell = page.locator(f"{ROWS}[data-run-id='{run_id}'] [data-col='metric:progress']")
    cell.filter(has_text="1").wait_for()
    server.api("POST", "runs/log-metric", json={**metric, "value": 42, "step": 1})
    server.api("POST", "runs/update", json={"run_id": run_id, "status": "FINISHED"})
    cell.filter(has_text="42").wait_for(timeout=10000)
    page.locator(f"{ROWS}[data-run-id='{run_id}']", has_text="Finished").wait_for(timeout=10000)
    server.api("POST", "runs/delete", json={"run_id": run_id})


def test_delete_restore_and_move_selected_runs(page: Page, server: Server) -> None:
    d = server.data
    made = [
        server.api(
            "POST", "runs/create", json={"experiment_id": d.empty_experiment_id, "run_name": n}
        ).json()["run"]["info"]["run_id"]
        for n in ("to-move", "to-delete")
    ]
    page.on("dialog", lambda dlg: dlg.accept())
    page.goto(f"/experiments/{d.empty_experiment_id}")
    for run_id in made:
        page.locator(f"{ROWS}[data-run-id='{run_id}'] input[type=checkbox]").wait_for()
    page.locator(f"{ROWS}[data-run-id='{made[1]}'] input[type=checkbox]").click()
    page.get_by_test_id("selection-bar").get_by_role("button", name="Delete").click()
    page.locator(f"{ROWS}[data-run-id='{made[1]}']").wait_for(state="detached")
    page.get_by_label("Which runs").select_option("deleted")
    page.locator(f"{ROWS}[data-run-id='{made[1]}'] input[type=checkbox]").click()
    page.get_by_test_id("selection-bar").get_by_role("button", name="Restore").click()
    page.locator(f"{ROWS}[data-run-id='{made[1]}']").wait_for(state="detached")
    page.get_by_label("Which runs").select_option("active")
    page.locator(f"{ROWS}[data-run-id='{made[0]}'] input[type=checkbox]").click()
    page.get_by_role("button", name="Move to…").click()
    page.locator(".popover").get_by_role("button", name="Default").click()
    page.locator(f"{ROWS}[data-run-id='{made[0]}']").wait_for(state="detached")
    moved = server.api("GET", "runs/get", params={"run_id": made[0]}).json()["run"]["info"]
    assert moved["experiment_id"] == "0"
    restored = server.api("GET", "runs/get", params={"run_id": made[1]}).json()["run"]["info"]
    assert restored["lifecycle_stage"] == "active"
    for run_id in made:
        server.api("POST", "runs/delete", json={"run_id": run_id})


def test_registry_pages_and_setting_an_alias(page: Page, server: Server) -> None:
    probe = server.api("GET", "registered-models/search", params={"max_results": 1})
    if probe.status_code == 404:
        missing("the server has no model registry endpoints")
    d = server.data
    run = server.api("GET", "runs/get", params={"run_id": d.parent}).json()["run"]
    name = "ui-test-model"
    assert server.api("POST", "registered-models/create", json={"name": name}).status_code == 200
    source = f"{run['info']['artifact_uri']}/model"
    created = server.api(
        "POST", "model-versions/create", json={"name": name, "source": source, "run_id": d.parent}
    )
    assert created.status_code == 200, created.text
    version = created.json()["model_version"]["version"]

    page.goto("/models")
    page.get_by_test_id("models-table").get_by_role("link", name=name).click()
    page.get_by_test_id("model-title").filter(has_text=name).wait_for()
    page.get_by_label("Alias").fill("champion")
    page.get_by_role("button", name="Set alias").click()
    page.get_by_test_id("aliases").filter(has_text="@champion").wait_for()
    alias = server.api("GET", "registered-models/alias", params={"name": name, "alias": "champion"})
    assert alias.json()["model_version"]["version"] == str(version)
    screenshot(page, "model-page")
    page.get_by_role("link", name=f"v{version}").first.click()
    page.get_by_test_id("version-title").wait_for()
    page.locator(".card", has_text="Source run").filter(has_text="trial-0").wait_for()
    # The version's signature, read from the MLmodel file in the source run's artifacts.
    page.get_by_test_id("mlmodel-preview").filter(has_text="sepal_length").wait_for()
    page.get_by_label("Stage of version 1").select_option("Staging")
    page.get_by_label("Stage of version 1").and_(page.locator("select")).wait_for()
    page.locator(".card", has_text="Details").filter(has_text="Staging").wait_for()
    got = server.api("GET", "model-versions/get", params={"name": name, "version": version})
    assert got.json()["model_version"]["current_stage"] == "Staging"
    page.get_by_label("Tag key").fill("validated")
    page.get_by_label("Tag value").fill("yes")
    page.get_by_role("button", name="Set tag").click()
    page.locator(".card", has_text="Tags").filter(has_text="validated").wait_for()
    screenshot(page, "model-version-page")


def test_register_a_model_from_the_run_page(page: Page, server: Server) -> None:
    probe = server.api("GET", "registered-models/search", params={"max_results": 1})
    if probe.status_code == 404:
        missing("the server has no model registry endpoints")
    d = server.data
    page.goto(f"/runs/{d.parent}")
    page.get_by_role("button", name="Register model").click()
    page.get_by_label("Registered model name (new or existing)").fill("from-the-run-page")
    page.get_by_role("dialog").get_by_role("button", name="Register").click()
    page.get_by_test_id("version-title").filter(has_text="from-the-run-page v1").wait_for()
    page.goto("/models?q=from-the")
    table = page.get_by_test_id("models-table")
    table.wait_for()
    assert table.locator("tbody tr").count() == 1
    screenshot(page, "models-list")
