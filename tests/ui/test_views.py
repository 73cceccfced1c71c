"""More of the web UI in a real browser: the all-experiments view, links that hold the view,
chart settings, editing a run's description, artifact links and downloads, compare's grouping
and scatter, registry edits, and the loading, empty and error states.

Same server and data as ``test_pages.py`` (see ``conftest.py``); screenshots go to
``test-artifacts/ui/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from tests.ui._browser import ROWS, Server, canvas_ink, row_names, screenshot, wait_rows

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

pytestmark = pytest.mark.slow


def _chart_image(page: Page, metric: str) -> str:
    """The chart's canvas as a data URL (to tell two drawings apart)."""
    image: str = page.evaluate(
        "(m) => document.querySelector(`[data-metric='${m}'] .chart-host canvas`).toDataURL()",
        metric,
    )
    return image


def _wait_redrawn(page: Page, metric: str, before: str) -> None:
    page.wait_for_function(
        "([m, before]) => document.querySelector(`[data-metric='${m}'] .chart-host canvas`)"
        ".toDataURL() !== before",
        arg=[metric, before],
    )


def _wait_points(page: Page, metric: str) -> None:
    page.wait_for_function(
        "(m) => Number(document.querySelector(`[data-metric='${m}'] .chart-host`)"
        "?.dataset.points) > 0",
        arg=metric,
    )


def _new_experiment(server: Server, name: str) -> str:
    created = server.api("POST", "experiments/create", json={"name": name})
    assert created.status_code == 200, created.text
    experiment_id: str = created.json()["experiment_id"]
    return experiment_id


def test_all_experiments_view_searches_across_them(page: Page, server: Server) -> None:
    d = server.data
    other = _new_experiment(server, "other-exp")
    run = server.api("POST", "runs/create", json={"experiment_id": other, "run_name": "elsewhere"})
    run_id = run.json()["run"]["info"]["run_id"]
    server.api("POST", "runs/set-tag", json={"run_id": run_id, "key": "team", "value": "vision"})
    page.goto("/experiments/all")
    page.get_by_test_id("experiment-title").filter(has_text="All experiments").wait_for()
    page.locator(f"{ROWS}[data-run-id='{run_id}']").wait_for()
    # Runs of several experiments: an Experiment column names each run's experiment.
    cell = page.locator(f"{ROWS}[data-run-id='{run_id}'] [data-col='attr:experiment_id']")
    assert cell.inner_text() == "other-exp"
    trial = page.locator(
        f"{ROWS}[data-run-id='{d.runs['trial-1']}'] [data-col='attr:experiment_id']"
    )
    assert trial.inner_text() == "vision-sweep"
    box = page.get_by_label("Filter runs")
    box.fill("tags.team = 'vision'")
    box.press("Enter")
    expected = {f"trial-{i}" for i in (1, 3, 5, 7)} | {"elsewhere"}
    wait_rows(page, len(expected))
    assert set(row_names(page)) == expected
    screenshot(page, "all-experiments")
    # Two experiments chosen in the sidebar make one view of both.
    for name in ("vision-sweep", "other-exp"):
        page.get_by_test_id("experiment-item").filter(has_text=name).locator("input").check()
    page.get_by_role("link", name="View 2 together").click()
    page.get_by_test_id("experiment-title").filter(has_text="other-exp").wait_for()
    assert "vision-sweep" in page.get_by_test_id("experiment-title").inner_text()
    wait_rows(page, 10)
    server.api("POST", "runs/delete", json={"run_id": run_id})


def test_a_link_holds_columns_sort_and_selection(page: Page, server: Server) -> None:
    d = server.data
    chosen = [d.runs["trial-2"], d.runs["trial-5"]]
    cols = "attr:run_name,attr:user_id,attr:duration,param:lr,tag:team"
    url = f"/experiments/{d.experiment_id}?cols={cols}&sort=attr:run_name&sel={','.join(chosen)}"
    for _ in range(2):  # as opened from the link, then after a reload
        page.goto(url)
        wait_rows(page, 9)
        headers = page.locator("[role=columnheader]").evaluate_all(
            "hs => hs.map(h => h.dataset.col)"
        )
        assert headers == cols.split(",")
        names = row_names(page)
        assert names == sorted(names)  # by name, ascending
        page.get_by_test_id("selection-bar").filter(has_text="2 selected").wait_for()
        for run_id in chosen:
            box = page.locator(f"{ROWS}[data-run-id='{run_id}'] input[type=checkbox]")
            assert box.is_checked()
        row = page.locator(f"{ROWS}[data-run-id='{d.runs['trial-5']}']")
        assert row.locator("[data-col='tag:team']").inner_text() == "vision"
        assert row.locator("[data-col='param:lr']").inner_text() == "0.001"
        assert row.locator("[data-col='attr:user_id']").inner_text() != ""
        assert re.fullmatch(
            r"\d+(\.\d+)?m?s", row.locator("[data-col='attr:duration']").inner_text()
        )


def test_keyboard_moves_selects_and_expands(page: Page, server: Server) -> None:
    d = server.data
    page.goto(f"/experiments/{d.experiment_id}?cols=attr:run_name")
    wait_rows(page, 9)
    grid = page.get_by_role("grid", name="Runs")
    grid.focus()
    grid.press("End")  # the oldest run: trial-0, the parent
    focused = page.locator(f"{ROWS}.focus")
    assert focused.get_attribute("data-run-id") == d.parent
    grid.press("ArrowRight")
    wait_rows(page, 11)
    grid.press("ArrowLeft")
    wait_rows(page, 9)
    grid.press("Home")
    grid.press(" ")
    assert focused.get_attribute("aria-selected") == "true"
    page.get_by_test_id("selection-bar").filter(has_text="1 selected").wait_for()


def test_chart_settings_change_the_drawing_and_stay_in_the_url(page: Page, server: Server) -> None:
    page.goto(f"/runs/{server.data.parent}?tab=metrics")
    _wait_points(page, "loss")
    linear = _chart_image(page, "loss")
    page.get_by_label("Log scale").check()
    _wait_redrawn(page, "loss", linear)
    assert "log=1" in page.url
    page.get_by_label("X axis").select_option("relative")
    page.locator("[data-metric='loss'] .u-legend").filter(has_text="relative time").wait_for()
    assert "x=relative" in page.url
    page.get_by_label("X axis").select_option("time")
    assert "x=time" in page.url
    _wait_points(page, "loss")
    before = _chart_image(page, "acc")
    page.get_by_label("Smoothing").fill("0.9")
    _wait_redrawn(page, "acc", before)
    assert "smooth=0.9" in page.url
    page.reload()  # the link alone brings the same settings back
    _wait_points(page, "acc")
    assert page.get_by_label("Log scale").is_checked()
    assert page.get_by_label("X axis").input_value() == "time"
    assert page.get_by_label("Smoothing").input_value() == "0.9"
    assert canvas_ink(page, "[data-metric='acc'] .chart-host") > 500
    screenshot(page, "run-charts-settings")


def test_run_description_is_edited_as_markdown(page: Page, server: Server) -> None:
    run_id = server.data.runs["trial-6"]
    page.goto(f"/runs/{run_id}")
    card = page.locator(".card", has=page.get_by_role("heading", name="Description"))
    card.get_by_text("No description.").wait_for()
    card.get_by_role("button", name="Edit").click()
    text = '## Notes\nUses a *cosine* schedule.\n\n<img src=x onerror="window.pwned2=1">'
    page.get_by_label("Description (markdown)").fill(text)
    card.get_by_role("button", name="Save").click()
    card.locator(".markdown h2").filter(has_text="Notes").wait_for()
    assert card.locator(".markdown em").inner_text() == "cosine"
    assert page.evaluate("window.pwned2") is None  # sanitized: no handler survives
    run = server.api("GET", "runs/get", params={"run_id": run_id}).json()["run"]
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags["mlflow.note.content"] == text
    # Tags: set one, then delete it.
    page.get_by_label("Tag key").fill("stage")
    page.get_by_label("Tag value").fill("tuning")
    page.get_by_role("button", name="Set tag").click()
    table = page.get_by_test_id("tags-table")
    table.filter(has_text="tuning").wait_for()
    # Edit: the tag's key and value come into the inputs; a new value replaces the old.
    page.get_by_title("Edit tag stage").click()
    assert page.get_by_label("Tag key").input_value() == "stage"
    assert page.get_by_label("Tag value").input_value() == "tuning"
    page.get_by_label("Tag value").fill("final")
    page.get_by_role("button", name="Set tag").click()
    table.filter(has_text="final").wait_for()
    assert "tuning" not in table.inner_text()
    page.get_by_title("Delete tag stage").click()
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=tags-table]').textContent.includes('final')"
    )
    run = server.api("GET", "runs/get", params={"run_id": run_id}).json()["run"]
    assert "stage" not in {t["key"] for t in run["data"]["tags"]}


def test_artifact_links_text_yaml_and_file_download(page: Page, server: Server) -> None:
    d = server.data
    # A link straight to a file of a run opens its preview.
    page.goto(f"/runs/{d.parent}?tab=artifacts&path=predictions.csv")
    page.get_by_test_id("csv-preview").filter(has_text="bird, small").wait_for()
    page.locator(".tree-item[data-path='config.yaml']").click()
    page.get_by_test_id("text-preview").filter(has_text="layers:").wait_for()
    assert page.get_by_test_id("parse-problem").count() == 0
    # A file that does not parse is shown as text, saying so.
    page.locator(".tree-item[data-path='broken.json']").click()
    page.get_by_test_id("parse-problem").filter(has_text="Not valid JSON").wait_for()
    assert page.get_by_test_id("text-preview").inner_text() == '{"truncated": [1, 2'
    page.locator(".tree-item[data-path='logs']").click()
    page.locator(".tree-item[data-path='logs/train.log']").click()
    preview = page.get_by_test_id("text-preview")
    preview.filter(has_text="epoch 2 loss 0.3").wait_for()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download").click()
    assert info.value.suggested_filename == "train.log"
    assert Path(info.value.path()).read_text() == "epoch 1 loss 0.5\nepoch 2 loss 0.3\n"


def test_compare_groups_by_a_param_and_scatters(page: Page, server: Server) -> None:
    d = server.data
    ids = ",".join(d.runs[n] for n in ("trial-0", "trial-1", "trial-2", "trial-3"))
    page.goto(f"/compare?runs={ids}")
    _wait_points(page, "acc")
    ungrouped = page.locator("[data-metric='acc'] .u-legend").inner_text()
    assert "trial-3" in ungrouped
    page.get_by_label("Group by").select_option("optimizer")
    legend = page.locator("[data-metric='acc'] .u-legend")
    legend.filter(has_text="adam (mean of 2)").wait_for()
    text = legend.inner_text()
    assert "adam max" in text
    assert "adam min" in text
    assert "rmsprop (mean of 1)" in text
    assert "group=optimizer" in page.url
    page.get_by_role("tab", name="Scatter").click()
    scatter = page.get_by_test_id("scatter")
    assert scatter.locator("circle").count() == 4
    page.get_by_label("Scatter X").select_option("metrics.loss")
    assert "metrics.loss" in (scatter.text_content() or "")
    assert scatter.locator("circle").count() == 4
    screenshot(page, "compare-scatter")
    page.get_by_role("tab", name="Parallel coordinates").click()
    page.get_by_test_id("parallel").locator("polyline").first.wait_for()
    screenshot(page, "compare-parallel")


def test_registry_edits(page: Page, server: Server) -> None:
    d = server.data
    name = "registry-edits"
    assert server.api("POST", "registered-models/create", json={"name": name}).status_code == 200
    run = server.api("GET", "runs/get", params={"run_id": d.runs["trial-1"]}).json()["run"]
    source = f"{run['info']['artifact_uri']}/model"
    for _ in range(2):
        made = server.api(
            "POST",
            "model-versions/create",
            json={"name": name, "source": source, "run_id": d.runs["trial-1"]},
        )
        assert made.status_code == 200, made.text
    server.api(
        "POST", "registered-models/alias", json={"name": name, "alias": "old", "version": "1"}
    )
    # The models list searches by name.
    page.goto("/models")
    search = page.get_by_label("Search models")
    search.fill("edits")
    search.press("Enter")
    table = page.get_by_test_id("models-table")
    # The other tests' models are listed until the filtered answer arrives.
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=models-table] tbody tr').length === 1"
    )
    assert table.locator("tbody tr").inner_text().startswith(name)
    assert "q=edits" in page.url
    table.get_by_role("link", name=name).click()
    page.get_by_test_id("model-title").filter(has_text=name).wait_for()
    # Description as markdown.
    card = page.locator(".card", has=page.get_by_role("heading", name="Description"))
    card.get_by_role("button", name="Edit").click()
    card.get_by_role("textbox").fill("Detects **cats**.")
    card.get_by_role("button", name="Save").click()
    card.locator(".markdown strong").filter(has_text="cats").wait_for()
    # A tag on the model.
    page.get_by_label("Tag key").fill("owner")
    page.get_by_label("Tag value").fill("vision-team")
    page.get_by_role("button", name="Set tag").click()
    page.locator(".card", has_text="Tags").filter(has_text="vision-team").wait_for()
    # Remove an alias; move another to version 2.
    page.get_by_title("Remove alias old").click()
    page.get_by_test_id("aliases").filter(has_text="No aliases.").wait_for()
    page.get_by_label("Alias").fill("champion")
    page.get_by_label("Version", exact=True).select_option("2")
    page.get_by_role("button", name="Set alias").click()
    page.get_by_test_id("aliases").filter(has_text="@champion").wait_for()
    # A stage change from the versions table.
    page.on("dialog", lambda dialog: dialog.dismiss())  # do not archive the others
    page.get_by_label("Stage of version 2").select_option("Production")
    page.wait_for_function(
        "() => document.querySelector('[aria-label=\"Stage of version 2\"]').value === 'Production'"
    )
    model = server.api("GET", "registered-models/get", params={"name": name}).json()
    m = model["registered_model"]
    assert m["description"] == "Detects **cats**."
    assert {"key": "owner", "value": "vision-team"} in m["tags"]
    assert m["aliases"] == [{"alias": "champion", "version": "2"}]
    version = server.api("GET", "model-versions/get", params={"name": name, "version": "2"})
    assert version.json()["model_version"]["current_stage"] == "Production"
    screenshot(page, "model-page-edited")
    # A version's own description.
    page.goto(f"/models/{name}/versions/2")
    page.get_by_test_id("version-title").filter(has_text=f"{name} v2").wait_for()
    card = page.locator(".card", has=page.get_by_role("heading", name="Description"))
    card.get_by_role("button", name="Edit").click()
    card.get_by_role("textbox").fill("Second try.")
    card.get_by_role("button", name="Save").click()
    # The textarea's own text holds what was typed, so wait for the rendered markdown.
    card.locator(".markdown").filter(has_text="Second try.").wait_for()
    got = server.api("GET", "model-versions/get", params={"name": name, "version": "2"})
    assert got.json()["model_version"]["description"] == "Second try."
    # No match: the list says so.
    page.goto("/models?q=no-such-model-anywhere")
    page.get_by_text("No model matches.").wait_for()


def test_loading_empty_and_error_states(page: Page, server: Server) -> None:
    held: list[Route] = []
    page.route("**/ajax-api/2.0/mlflow/runs/search", lambda route: held.append(route))
    empty = _new_experiment(server, "nothing-here")
    page.goto(f"/experiments/{empty}")
    page.get_by_role("status").filter(has_text="Loading runs").wait_for()
    screenshot(page, "state-loading")
    for route in held:
        route.continue_()
    page.unroute("**/ajax-api/2.0/mlflow/runs/search")
    page.get_by_text("No runs in this experiment yet").wait_for()
    # The server unreachable: the page says so instead of showing nothing.
    page.route("**/ajax-api/2.0/mlflow/runs/search", lambda route: route.abort())
    page.reload()
    alert = page.get_by_role("alert")
    alert.filter(has_text="Cannot load runs").wait_for()
    assert "Cannot reach the server" in alert.inner_text()
    screenshot(page, "state-server-unreachable")
    page.unroute("**/ajax-api/2.0/mlflow/runs/search")
    page.get_by_role("button", name="Retry").click()  # the server is back
    page.get_by_text("No runs in this experiment yet").wait_for()
    # A run that does not exist, and a path that is no page.
    page.goto("/runs/0123456789abcdef0123456789abcdef")
    missing_run = page.get_by_role("alert")
    missing_run.wait_for()
    assert "RESOURCE_DOES_NOT_EXIST" in missing_run.inner_text()
    assert page.get_by_role("link", name="Back to the experiments").is_visible()
    screenshot(page, "state-run-not-found")
    page.goto("/no/such/page")
    page.get_by_role("heading", name="Page not found").wait_for()
    # Compare without runs explains how to choose some.
    page.goto("/compare")
    page.get_by_text("Select runs in an experiment's table").wait_for()


def test_the_first_page_is_asked_once_and_a_sort_once(page: Page, server: Server) -> None:
    """index.html starts the first page's request before the app loads and the app takes that
    response over (one request, not two); a click on a header asks once for the new order."""
    bodies: list[dict[str, object]] = []

    def on_request(r: Any) -> None:
        if r.url.endswith("/runs/search") and r.method == "POST":
            body = r.post_data_json
            if "run_id IN" not in str(body.get("filter") or ""):  # not a live update
                bodies.append(body)

    page.on("request", on_request)
    eid = server.data.experiment_id
    page.goto(f"/experiments/{eid}?sort=-metric:acc&cols=attr:run_name,metric:acc")
    page.locator(ROWS).first.wait_for()
    acc = server.data.acc
    assert row_names(page)[0] == max(acc, key=lambda n: acc[n])
    page.wait_for_timeout(300)
    assert bodies == [
        {
            "experiment_ids": [eid],
            "run_view_type": "ACTIVE_ONLY",
            "order_by": ["metrics.acc DESC"],
            "max_results": 100,
        }
    ]
    assert page.evaluate("window.__mltrailRunsPrefetch") is None  # taken over
    page.click("[role=columnheader][data-col='metric:acc']")
    page.wait_for_function(
        "([sel, name]) => document.querySelector(sel + ' a')?.textContent === name",
        arg=[ROWS, min(acc, key=lambda n: acc[n])],
    )
    page.wait_for_timeout(300)
    assert [b["order_by"] for b in bodies] == [["metrics.acc DESC"], ["metrics.acc ASC"]]
