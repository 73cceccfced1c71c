"""The evaluation plots' renderer (Pillow): round ticks, the figure's size and colors, the
heatmap's color scale, and that an evaluation draws its plots without importing matplotlib."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

import mltrail
from mltrail.evaluation._chart import CYCLE, Chart, Heatmap, _label, blues, nice_ticks

Image = pytest.importorskip("PIL.Image")


@pytest.mark.parametrize(
    ("low", "high", "labels"),
    [
        (-0.05, 1.05, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]),
        (0.95, 2.05, ["1.0", "1.2", "1.4", "1.6", "1.8", "2.0"]),
        (0.0, 13.7, ["0", "2", "4", "6", "8", "10", "12"]),
        (0.0, 1234.0, ["0", "200", "400", "600", "800", "1000", "1200"]),
        (0.0, 0.0125, ["0.000", "0.002", "0.004", "0.006", "0.008", "0.010", "0.012"]),
        (0.0, 0.75, ["0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7"]),
        (0.0, 1.9, ["0.00", "0.25", "0.50", "0.75", "1.00", "1.25", "1.50", "1.75"]),
        (-3.0, 3.0, ["-3", "-2", "-1", "0", "1", "2", "3"]),
    ],
)
def test_ticks_fall_on_round_steps(low: float, high: float, labels: list[str]) -> None:
    ticks = nice_ticks(low, high)
    assert [_label(t, ticks) for t in ticks] == labels
    assert all(low <= t <= high for t in ticks)


def test_an_empty_range_has_one_tick() -> None:
    assert nice_ticks(2.0, 2.0) == [2.0]


def _pixels(png: bytes) -> set[tuple[int, int, int]]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (600, 400)
    return {color for _, color in image.getcolors(maxcolors=600 * 400)}


def _near(colors: set[tuple[int, int, int]], want: str, tolerance: int = 6) -> bool:
    target = tuple(int(want.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return any(all(abs(a - b) <= tolerance for a, b in zip(c, target, strict=True)) for c in colors)


def test_lines_take_matplotlibs_color_cycle_and_labels_are_drawn() -> None:
    chart = Chart(title="ROC curve", xlabel="x", ylabel="y", legend="lower right")
    chart.line([0, 0.5, 1], [0, 0.8, 1], label="AUC=0.900", width=2.0)
    chart.line([0, 1], [1, 0], label="other", width=2.0)
    chart.line([0, 1], [0, 1], color="#000000", dash=(3.7, 1.6))
    colors = _pixels(chart.png())
    assert _near(colors, CYCLE[0])
    assert _near(colors, CYCLE[1])
    assert not _near(colors, CYCLE[2])  # a set color does not take the cycle's next one
    assert (0, 0, 0) in colors or _near(colors, "#000000", 20)


def test_a_heatmap_runs_from_white_to_dark_blue() -> None:
    assert blues(0.0) == (0xF7, 0xFB, 0xFF)
    assert blues(1.0) == (0x08, 0x30, 0x6B)
    assert blues(0.5) < blues(0.25)  # darker as values grow
    chart = Chart(right=1.0, title="Normalized confusion matrix")
    chart.heatmap = Heatmap([[0.9, 0.1], [0.3, 0.7]], ["0", "1"], 8.0)
    colors = _pixels(chart.png())
    assert _near(colors, "#08306b", 3)  # the largest cell
    assert _near(colors, "#f7fbff", 3)  # the color bar's low end


def test_an_evaluation_draws_its_plots_without_matplotlib(sqlite_uri: str, tmp_path: Path) -> None:
    script = f"""
import sys
import numpy as np, pandas as pd, mltrail
from sklearn.linear_model import LogisticRegression
mltrail.set_tracking_uri({sqlite_uri!r})
x = np.random.default_rng(0).normal(size=(200, 2))
frame = pd.DataFrame(x, columns=["a", "b"]).assign(y=(x[:, 0] > 0).astype(int))
model = LogisticRegression().fit(frame[["a", "b"]], frame["y"])
with mltrail.start_run():
    uri = mltrail.sklearn.log_model(model, name="model").model_uri
result = mltrail.evaluate(uri, frame, targets="y", model_type="classifier",
                          evaluator_config={{"log_model_explainability": False}})
print(len(result.artifacts), "matplotlib" in sys.modules)
"""
    src = str(Path(mltrail.__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": src, "HOME": str(tmp_path)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["5", "False"]
