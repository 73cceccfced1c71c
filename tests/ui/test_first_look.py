"""The UI as a new user first meets it (issue 21, point 5): the home page is an overview of the
experiments; the runs table keeps params and the run's name in view and names the source by its
file; a metric logged once a run is drawn as bars; no axis label is cut at a chart's edge; the
chart grid is faint in the dark theme; markdown is rendered in the models list; the selected
experiment's name is whole in the sidebar; system tags are run details, not user tags.

Same server as ``test_pages.py`` (see ``conftest.py``); this module adds its own experiments,
runs and model through the REST API. Screenshots go to ``test-artifacts/ui/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from tests.ui._browser import ROWS, Server, screenshot, wait_rows

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.slow

# When the runs started: a fixed time, so that nothing here reads the clock.
START_MS = 1_780_000_000_000  # 2026-05-28

LONG_NAME = "first-look-resnet50-imagenet-hyperparameter-search"
SOURCE = "/home/ana/projects/vision/experiments/resnet/train_imagenet.py"
LONG_PARAM = "a_rather_long_parameter_name_for_the_first_axis"
MODEL = "first-look-classifier"


@dataclass
class FirstLook:
    experiment_id: str
    empty_id: str
    runs: list[str] = field(default_factory=list)  # oldest first
    accuracy: list[float] = field(default_factory=list)


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def first(server: Server) -> FirstLook:
    note = {"key": "mlflow.note.content", "value": "Sweep of **lr** and weight decay."}
    exp = _ok(
        server.api(
            "POST",
            "experiments/create",
            json={"name": LONG_NAME, "tags": [note, {"key": "owner", "value": "ana"}]},
        )
    )["experiment_id"]
    empty = _ok(server.api("POST", "experiments/create", json={"name": "first-look-empty"}))
    data = FirstLook(experiment_id=exp, empty_id=empty["experiment_id"])
    start = START_MS
    for i, (lr, opt) in enumerate([(0.1, "adam"), (0.01, "sgd"), (0.001, "adam")]):
        created = _ok(
            server.api(
                "POST",
                "runs/create",
                json={"experiment_id": exp, "run_name": f"fl-{i}", "start_time": start + i * 1000},
            )
        )
        run_id = created["run"]["info"]["run_id"]
        accuracy = 0.71 + 0.035 * i
        params = {LONG_PARAM: i, "batch_size": 32 * (i + 1), "lr": lr, "optimizer": opt}
        params["seed"] = 7  # the same in every run
        metrics = [{"key": "final_accuracy", "value": accuracy, "timestamp": start, "step": 0}]
        for step in range(5):
            metrics.append(
                {"key": "loss", "value": 1 / (step + 1), "timestamp": start + step, "step": step}
            )
            metrics.append(
                {
                    "key": "system/gpu_memory_megabytes",
                    "value": 150_000 + 25_000 * step,
                    "timestamp": start + step,
                    "step": step,
                }
            )
        tags = {
            "mlflow.source.name": SOURCE,
            "mlflow.source.type": "LOCAL",
            "mlflow.source.git.commit": "0123456789abcdef0123456789abcdef01234567",
            "mlflow.source.git.branch": "main",
            "mltrail.source.git.dirty": "true",
            "mlflow.docker.image": "trainer:1",
            "stage": "tuning",
        }
        _ok(
            server.api(
                "POST",
                "runs/log-batch",
                json={
                    "run_id": run_id,
                    "params": [{"key": k, "value": str(v)} for k, v in params.items()],
                    "metrics": metrics,
                    "tags": [{"key": k, "value": v} for k, v in tags.items()],
                },
            )
        )
        _ok(
            server.api(
                "POST",
                "runs/update",
                json={"run_id": run_id, "status": "FINISHED", "end_time": start + i * 1000 + 500},
            )
        )
        data.runs.append(run_id)
        data.accuracy.append(accuracy)
    description = "A **ResNet-50** fine-tuned on `imagenet`.\n\n- top-1: 0.76\n- [paper](https://arxiv.org/abs/1512.03385)"
    _ok(
        server.api(
            "POST", "registered-models/create", json={"name": MODEL, "description": description}
        )
    )
    return data


def test_home_is_an_overview_of_the_experiments(page: Page, first: FirstLook) -> None:
    page.goto("/")
    table = page.get_by_test_id("experiments-overview")
    table.wait_for()
    headers = [h.strip().rstrip("▲▼ ") for h in table.locator("thead th").all_inner_texts()]
    assert headers == ["Name", "Runs", "Last run", "Created", "Description", "Tags"]
    row = table.locator(f"tr[data-experiment-id='{first.experiment_id}']")
    row.get_by_test_id("overview-runs").filter(has_text="3").wait_for()
    assert row.get_by_test_id("overview-last-run").get_by_role("link").inner_text() == "fl-2"
    assert row.get_by_test_id("overview-description").locator("strong").inner_text() == "lr"
    tags = row.get_by_test_id("overview-tags").inner_text()
    assert "owner: ana" in tags
    assert "mlflow.note.content" not in tags
    empty = table.locator(f"tr[data-experiment-id='{first.empty_id}']")
    empty.get_by_test_id("overview-last-run").filter(has_text="no runs yet").wait_for()
    assert empty.get_by_test_id("overview-runs").inner_text() == "0"
    # The page stays: no jump into some experiment.
    assert page.evaluate("location.pathname") == "/"
    screenshot(page, "experiments-overview")
    row.get_by_role("link", name=LONG_NAME).click()
    page.get_by_test_id("experiment-title").filter(has_text=LONG_NAME).wait_for()


def test_params_in_view_and_the_source_by_its_file_name(page: Page, first: FirstLook) -> None:
    page.goto(f"/experiments/{first.experiment_id}")
    wait_rows(page, 3)
    wrap = page.locator("[role=grid]").bounding_box()
    assert wrap is not None
    params = page.locator("[role=columnheader][data-col^='param:']")
    assert params.count() >= 4
    for i in range(params.count()):
        box = params.nth(i).bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= wrap["x"] + wrap["width"], params.nth(i).inner_text()
    # The params that differ between the runs are shown first; the seed they share is not.
    cols = [params.nth(i).get_attribute("data-col") for i in range(params.count())]
    assert "param:lr" in cols
    assert "param:seed" not in cols
    cell = page.locator(f"{ROWS}[data-run-id='{first.runs[0]}'] [data-col='attr:source']")
    assert cell.inner_text() == "train_imagenet.py"
    assert cell.get_attribute("title") == SOURCE
    screenshot(page, "runs-table-params-in-view")
    # Scrolled sideways, the run's name stays in view.
    page.locator("[role=grid]").evaluate("el => { el.scrollLeft = 400; }")
    page.wait_for_function("() => document.querySelector('[role=grid]').scrollLeft > 0")
    name = page.locator(f"{ROWS}[data-run-id='{first.runs[0]}'] .run-name")
    box = name.bounding_box()
    assert box is not None
    assert wrap["x"] <= box["x"] <= wrap["x"] + 40


def test_a_metric_logged_once_is_drawn_as_bars(page: Page, first: FirstLook) -> None:
    page.goto(f"/compare?runs={','.join(first.runs)}")
    chart = page.locator("[data-testid=chart][data-metric=final_accuracy]")
    bars = chart.get_by_test_id("metric-bar")
    bars.nth(2).wait_for()
    assert bars.count() == 3
    assert chart.locator(".chart-host canvas").count() == 0
    values = {bars.nth(i).get_attribute("data-run-id"): bars.nth(i) for i in range(3)}
    widths = []
    for run_id, accuracy in zip(first.runs, first.accuracy, strict=True):
        bar = values[run_id]
        assert float(bar.get_attribute("data-value") or "nan") == pytest.approx(accuracy)
        fill = bar.locator(".metric-bar-fill").bounding_box()
        assert fill is not None
        widths.append(fill["width"])
    assert widths == sorted(widths)
    assert widths[0] > 0
    # A metric with a history is still a line chart.
    page.locator("[data-metric=loss] .chart-host canvas").wait_for()
    screenshot(page, "compare-single-value-bars")


def _left_edge_ink(page: Page, metric: str) -> int:
    """Drawn pixels in the leftmost three columns of the chart's canvas (a label cut there)."""
    script = """(m) => {
        const c = document.querySelector(`[data-metric='${m}'] .chart-host canvas`);
        const d = c.getContext('2d').getImageData(0, 0, 3, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;
    }"""
    ink: int = page.evaluate(script, metric)
    return ink


def test_no_axis_label_is_cut_at_the_chart_edge(page: Page, first: FirstLook) -> None:
    metric = "system/gpu_memory_megabytes"
    page.goto(f"/runs/{first.runs[0]}?tab=system")
    page.wait_for_function(
        "(m) => Number(document.querySelector(`[data-metric='${m}'] .chart-host`)"
        "?.dataset.points) === 5",
        arg=metric,
    )
    assert _left_edge_ink(page, metric) == 0
    screenshot(page, "system-metrics-large-values")


def test_parallel_coordinates_labels_stay_inside(page: Page, first: FirstLook) -> None:
    page.goto(f"/compare?runs={','.join(first.runs)}&tab=parallel")
    svg = page.get_by_test_id("parallel")
    svg.wait_for()
    boxes = svg.evaluate(
        """(svg) => {
            const w = svg.width.baseVal.value, h = svg.height.baseVal.value;
            return [...svg.querySelectorAll('text')].map((t) => {
                const b = t.getBBox();
                return {text: t.textContent, x: b.x, y: b.y, right: b.x + b.width,
                        bottom: b.y + b.height, w, h};
            });
        }"""
    )
    assert any(b["text"].startswith("params.a_rather") for b in boxes)
    for b in boxes:
        assert b["x"] >= 0, b
        assert b["right"] <= b["w"], b
        assert b["y"] >= 0, b
        assert b["bottom"] <= b["h"], b
    # A name cut short keeps its whole text in its tooltip.
    assert svg.locator("text title", has_text=f"params.{LONG_PARAM}").count() == 1
    screenshot(page, "compare-parallel-labels")


def test_the_chart_grid_is_faint_in_the_dark_theme(page: Page, first: FirstLook) -> None:
    page.goto(f"/runs/{first.runs[0]}?tab=metrics")
    host = page.locator("[data-metric=loss] .chart-host")
    page.wait_for_function(
        "() => Number(document.querySelector('[data-metric=loss] .chart-host')"
        "?.dataset.points) === 5"
    )
    light = host.get_attribute("data-grid")
    page.get_by_test_id("theme-toggle").click()
    # The chart is drawn again with the dark theme's grid colour, not the light one it had.
    page.wait_for_function(
        """(light) => {
            const g = document.querySelector('[data-metric=loss] .chart-host').dataset.grid;
            return document.documentElement.dataset.theme === 'dark' && g && g !== light;
        }""",
        arg=light,
    )
    contrast: float = page.evaluate(
        """() => {
            const css = getComputedStyle(document.documentElement);
            const hex = (v) => v.trim().replace('#', '');
            const lum = (h) => {
                const [r, g, b] = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16) / 255)
                    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
                return 0.2126 * r + 0.7152 * g + 0.0722 * b;
            };
            const grid = document.querySelector('[data-metric=loss] .chart-host').dataset.grid;
            const a = lum(hex(grid)), b = lum(hex(css.getPropertyValue('--panel')));
            return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        }"""
    )
    # Visible, but fainter than the borders of the cards (1.34 against the panel).
    assert 1.02 < contrast < 1.2
    screenshot(page, "run-charts-dark-grid")
    page.get_by_test_id("theme-toggle").click()
    page.wait_for_function("() => document.documentElement.dataset.theme === 'light'")


def test_the_models_list_renders_markdown(page: Page, first: FirstLook) -> None:
    page.goto(f"/models?q={MODEL}")
    cell = page.locator("[data-testid=models-table] tr", has_text=MODEL).get_by_test_id(
        "model-description"
    )
    cell.locator(".markdown strong").filter(has_text="ResNet-50").wait_for()
    assert cell.locator("code").inner_text() == "imagenet"
    assert cell.get_by_role("link", name="paper").get_attribute("href") == (
        "https://arxiv.org/abs/1512.03385"
    )
    assert "**" not in cell.inner_text()
    screenshot(page, "models-markdown")


def test_the_selected_experiment_name_is_whole(page: Page, first: FirstLook) -> None:
    page.goto(f"/experiments/{first.experiment_id}")
    item = page.get_by_test_id("experiment-item").filter(has_text=LONG_NAME)
    name = item.locator(".name")
    name.wait_for()
    page.mouse.move(900, 700)
    assert "active" in (item.get_attribute("class") or "")
    assert name.inner_text() == LONG_NAME
    assert name.evaluate("el => el.scrollWidth <= el.clientWidth")
    rename = item.get_by_role("button", name="Rename")
    assert rename.evaluate("el => getComputedStyle(el.parentElement).opacity") == "0"
    screenshot(page, "sidebar-selected-long-name")
    item.hover()
    page.wait_for_function(
        "(el) => getComputedStyle(el.parentElement).opacity === '1'", arg=rename.element_handle()
    )


def test_system_tags_are_run_details(page: Page, first: FirstLook) -> None:
    page.goto(f"/runs/{first.runs[0]}")
    page.get_by_test_id("run-title").filter(has_text="fl-0").wait_for()
    tags = page.get_by_test_id("tags-table")
    tags.filter(has_text="stage").wait_for()
    text = tags.inner_text()
    assert "mltrail.source.git.dirty" not in text
    assert "mlflow." not in text
    assert "uncommitted changes" in page.get_by_test_id("git-dirty").inner_text()
    others = page.get_by_test_id("system-tags")
    others.locator("summary").click()
    assert "mlflow.docker.image" in others.inner_text()
    assert "trainer:1" in others.inner_text()
    screenshot(page, "run-details-system-tags")
