"""The writers behind log_text, log_dict, log_figure and log_image, with real library objects."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from PIL import Image

from mltrail._exceptions import InvalidArgument
from mltrail.artifacts._serialize import write_dict, write_figure, write_image, write_text

# -- text ----------------------------------------------------------------------------------------


def test_write_text_is_exact_utf8(tmp_path: Path) -> None:
    text = "line one\r\nline two\nünïcødé ✓ 模型\n"
    write_text(text, tmp_path / "notes.txt")
    assert (tmp_path / "notes.txt").read_bytes() == text.encode("utf-8")


def test_write_text_wants_a_string(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="expects a str, not bytes"):
        write_text(b"bytes", tmp_path / "x.txt")  # type: ignore[arg-type]


# -- dicts ---------------------------------------------------------------------------------------

DATA: dict[str, Any] = {
    "zeta": 1,
    "alpha": {"nested": [1, 2.5, None, True]},
    "name": "modèle",
    "shape": (3, 4),
}
LOADED = {**DATA, "shape": [3, 4]}


@pytest.mark.parametrize("name", ["d.json", "d.txt", "d", "D.JSON"])
def test_write_dict_as_json(tmp_path: Path, name: str) -> None:
    write_dict(DATA, tmp_path / name)
    text = (tmp_path / name).read_text(encoding="utf-8")
    assert json.loads(text) == LOADED
    assert list(json.loads(text)) == ["zeta", "alpha", "name", "shape"]
    assert text.startswith('{\n  "zeta": 1')  # indented by 2
    assert "modèle" in text


@pytest.mark.parametrize("name", ["d.yaml", "d.yml", "d.YAML"])
def test_write_dict_as_yaml(tmp_path: Path, name: str) -> None:
    write_dict(DATA, str(tmp_path / name))
    text = (tmp_path / name).read_text(encoding="utf-8")
    assert yaml.safe_load(text) == LOADED
    assert text.startswith("zeta: 1\n")  # block style, the given key order
    assert "!!python" not in text
    assert "modèle" in text


@pytest.mark.parametrize("name", ["d.json", "d.yaml"])
def test_write_dict_refuses_unserialisable_values(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidArgument, match="log_dict cannot write"):
        write_dict({"x": object()}, tmp_path / name)


# -- figures -------------------------------------------------------------------------------------


@pytest.fixture
def mpl_figure(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 3), dpi=50)
    figure.add_subplot().plot([0, 1, 2], [2, 0, 1])
    return figure


def test_matplotlib_png(tmp_path: Path, mpl_figure: Any) -> None:
    write_figure(mpl_figure, tmp_path / "fig.png")
    with Image.open(tmp_path / "fig.png") as image:
        assert image.format == "PNG"
        assert image.size == (200, 150)


@pytest.mark.parametrize(("name", "magic"), [("fig.svg", b"<?xml"), ("fig.pdf", b"%PDF")])
def test_matplotlib_formats_follow_the_extension(
    tmp_path: Path, mpl_figure: Any, name: str, magic: bytes
) -> None:
    write_figure(mpl_figure, tmp_path / name)
    assert (tmp_path / name).read_bytes().startswith(magic)


def test_matplotlib_unknown_extension(tmp_path: Path, mpl_figure: Any) -> None:
    with pytest.raises(InvalidArgument, match=r"matplotlib figure as .*fig\.xyz"):
        write_figure(mpl_figure, tmp_path / "fig.xyz")


def test_pyplot_figure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    try:
        axes.bar(["a", "b"], [1, 2])
        write_figure(figure, tmp_path / "bar.jpg")
    finally:
        plt.close(figure)
    with Image.open(tmp_path / "bar.jpg") as image:
        assert image.format == "JPEG"


@pytest.fixture
def plotly_figure() -> Any:
    import plotly.graph_objects as go

    return go.Figure(data=[go.Scatter(x=[1, 2, 3], y=[3, 1, 2], name="loss")])


def test_plotly_html_uses_the_cdn(tmp_path: Path, plotly_figure: Any) -> None:
    write_figure(plotly_figure, tmp_path / "fig.html")
    html = (tmp_path / "fig.html").read_text(encoding="utf-8")
    assert "<html>" in html
    assert "https://cdn.plot.ly/plotly-" in html
    assert '"name":"loss"' in html
    assert len(html) < 100_000  # plotly.js itself is not inlined (it is ~4 MB)


@pytest.mark.skipif(importlib.util.find_spec("kaleido") is not None, reason="kaleido installed")
def test_plotly_image_without_kaleido(tmp_path: Path, plotly_figure: Any) -> None:
    with pytest.raises(InvalidArgument, match="kaleido"):
        write_figure(plotly_figure, tmp_path / "fig.png")
    assert not (tmp_path / "fig.png").exists()


def test_plotly_unknown_extension(tmp_path: Path, plotly_figure: Any) -> None:
    with pytest.raises(InvalidArgument, match=r"extension must be '\.html'"):
        write_figure(plotly_figure, tmp_path / "fig.txt")


@pytest.mark.parametrize("figure", [None, "figure", {"data": []}, np.zeros((2, 2))])
def test_unsupported_figures(tmp_path: Path, figure: object) -> None:
    with pytest.raises(InvalidArgument, match=r"matplotlib\.figure\.Figure or a plotly Figure"):
        write_figure(figure, tmp_path / "fig.png")


# -- images --------------------------------------------------------------------------------------


def read_png(path: Path) -> tuple[str, np.ndarray[Any, Any]]:
    with Image.open(path) as image:
        return image.mode, np.asarray(image)


def test_grey_uint8(tmp_path: Path) -> None:
    array = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    write_image(array, tmp_path / "grey.png")
    mode, back = read_png(tmp_path / "grey.png")
    assert mode == "L"
    np.testing.assert_array_equal(back, array)


def test_rgb_and_rgba(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(5, 6, 3), dtype=np.uint8)
    rgba = rng.integers(0, 256, size=(5, 6, 4), dtype=np.uint8)
    write_image(rgb, tmp_path / "rgb.png")
    write_image(rgba, tmp_path / "rgba.png")
    assert read_png(tmp_path / "rgb.png")[0] == "RGB"
    np.testing.assert_array_equal(read_png(tmp_path / "rgb.png")[1], rgb)
    assert read_png(tmp_path / "rgba.png")[0] == "RGBA"
    np.testing.assert_array_equal(read_png(tmp_path / "rgba.png")[1], rgba)


def test_single_channel_is_grey(tmp_path: Path) -> None:
    write_image(np.full((2, 3, 1), 7, dtype=np.uint8), tmp_path / "one.png")
    mode, back = read_png(tmp_path / "one.png")
    assert mode == "L"
    assert back.shape == (2, 3)


def test_floats_are_scaled(tmp_path: Path) -> None:
    array = np.array([[0.0, 0.25, 0.5], [0.75, 1.0, 1 / 255]], dtype=np.float32)
    write_image(array, tmp_path / "f.png")
    np.testing.assert_array_equal(read_png(tmp_path / "f.png")[1], [[0, 64, 128], [191, 255, 1]])


def test_other_integer_and_bool_dtypes(tmp_path: Path) -> None:
    write_image(np.array([[0, 255], [128, 1]], dtype=np.int64), tmp_path / "i.png")
    np.testing.assert_array_equal(read_png(tmp_path / "i.png")[1], [[0, 255], [128, 1]])
    write_image(np.array([[True, False]]), tmp_path / "b.png")
    np.testing.assert_array_equal(read_png(tmp_path / "b.png")[1], [[255, 0]])


def test_pil_images_and_formats(tmp_path: Path) -> None:
    image = Image.new("RGB", (8, 4), (10, 200, 30))
    write_image(image, tmp_path / "p.jpg")
    write_image(image, str(tmp_path / "p.webp"))
    with Image.open(tmp_path / "p.jpg") as back:
        assert (back.format, back.size) == ("JPEG", (8, 4))
    with Image.open(tmp_path / "p.webp") as back:
        assert back.format == "WEBP"


@pytest.mark.parametrize(
    ("array", "rule"),
    [
        (np.zeros(5, dtype=np.uint8), r"shape HxW, HxWx1, HxWx3 \(RGB\) or HxWx4 \(RGBA\)"),
        (np.zeros((2, 2, 2), dtype=np.uint8), "got shape \\(2, 2, 2\\)"),
        (np.zeros((2, 2, 5), dtype=np.uint8), "got shape \\(2, 2, 5\\)"),
        (np.zeros((1, 2, 2, 3), dtype=np.uint8), "got shape \\(1, 2, 2, 3\\)"),
        (np.zeros((0, 3), dtype=np.uint8), "non-empty"),
        (np.array([[0.5, 1.5]]), r"float pixel values in \[0, 1\], got values in \[0.5, 1.5\]"),
        (np.array([[-0.1, 0.5]]), r"float pixel values in \[0, 1\]"),
        (np.array([[np.nan, 0.5]]), "finite"),
        (np.array([[np.inf, 0.5]]), "finite"),
        (np.array([[0, 256]]), r"integer pixel values in \[0, 255\], got values in \[0, 256\]"),
        (np.array([[-1, 3]], dtype=np.int8), r"integer pixel values in \[0, 255\]"),
        (np.array([[1 + 1j]]), "bool, integer or float array, got dtype complex128"),
        (np.array([["a"]]), "bool, integer or float array"),
    ],
)
def test_bad_arrays_name_the_rule(tmp_path: Path, array: np.ndarray[Any, Any], rule: str) -> None:
    with pytest.raises(InvalidArgument, match=rule):
        write_image(array, tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


@pytest.mark.parametrize("image", [[[0, 1], [1, 0]], "img.png", None])
def test_non_images(tmp_path: Path, image: object) -> None:
    with pytest.raises(
        InvalidArgument, match=r"numpy\.ndarray, a PIL\.Image\.Image or an mltrail\.Image"
    ):
        write_image(image, tmp_path / "x.png")


def test_unsaveable_images(tmp_path: Path) -> None:
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    with pytest.raises(InvalidArgument, match="mode RGBA"):
        write_image(rgba, tmp_path / "x.jpg")  # JPEG has no alpha channel
    with pytest.raises(InvalidArgument, match=r"x\.unknownext"):
        write_image(rgba, tmp_path / "x.unknownext")
