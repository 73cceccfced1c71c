"""Writing in-memory objects to local files for ``log_text``, ``log_dict``, ``log_figure`` and
``log_image``.

Callers import this module when one of those functions is called.  numpy, PIL, matplotlib,
plotly and yaml are imported inside the functions, and a figure or image type is only checked
against a library the caller has already imported (an object of that library cannot exist
otherwise), so writing text never loads an imaging library.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from typing import TYPE_CHECKING, Any, TypeAlias

from mltrail._exceptions import InvalidArgument
from mltrail._optional import require

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from PIL import Image as PILImage

__all__ = ["to_pil", "write_dict", "write_figure", "write_image", "write_text"]

_PLOTLY_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".svg", ".pdf")

StrPath: TypeAlias = str | os.PathLike[str]


def write_text(text: str, path: StrPath) -> None:
    """Write *text* as UTF-8, exactly as given (no newline translation)."""
    if not isinstance(text, str):
        raise InvalidArgument(f"log_text expects a str, not {type(text).__name__}")
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(text)


def write_dict(obj: Any, path: StrPath) -> None:
    """Write *obj* as YAML when the file name ends in ``.yaml`` or ``.yml``, else as JSON.

    JSON is indented by 2; YAML is block style with keys in the order given.  Tuples are
    written as lists in both.  A value that cannot be serialised raises ``InvalidArgument``.
    """
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension in (".yaml", ".yml"):
        import yaml

        class _Dumper(yaml.SafeDumper):
            pass

        _Dumper.add_representer(tuple, _Dumper.represent_list)
        try:
            text = yaml.dump(
                obj, Dumper=_Dumper, default_flow_style=False, sort_keys=False, allow_unicode=True
            )
        except yaml.YAMLError as exc:
            raise InvalidArgument(f"log_dict cannot write {obj!r} as YAML: {exc}") from exc
    else:
        try:
            text = json.dumps(obj, indent=2, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise InvalidArgument(f"log_dict cannot write the value as JSON: {exc}") from exc
    write_text(text, path)


def _imported_class(module: str, name: str) -> type[Any] | None:
    """``module.name`` if the caller has already imported *module*, else None."""
    loaded = sys.modules.get(module)
    cls = getattr(loaded, name, None)
    return cls if isinstance(cls, type) else None


def write_figure(figure: Any, path: StrPath) -> None:
    """Save a matplotlib or plotly figure; the format follows the file extension.

    matplotlib: ``savefig`` (any format matplotlib supports).  plotly: ``.html`` through
    ``write_html`` with plotly.js loaded from its CDN; ``.png``, ``.jpg``, ``.jpeg``, ``.webp``,
    ``.svg`` and ``.pdf`` through ``write_image``, which needs the ``kaleido`` package.
    """
    target = os.fspath(path)
    extension = os.path.splitext(target)[1].lower()
    mpl_figure = _imported_class("matplotlib.figure", "Figure")
    if mpl_figure is not None and isinstance(figure, mpl_figure):
        try:
            figure.savefig(target)
        except ValueError as exc:
            raise InvalidArgument(
                f"Cannot save the matplotlib figure as {target!r}: {exc}"
            ) from exc
        return
    plotly_figure = _imported_class("plotly.basedatatypes", "BaseFigure")
    if plotly_figure is not None and isinstance(figure, plotly_figure):
        if extension == ".html":
            figure.write_html(target, include_plotlyjs="cdn", auto_open=False)
        elif extension in _PLOTLY_IMAGE_EXTENSIONS:
            if importlib.util.find_spec("kaleido") is None:
                raise InvalidArgument(
                    f"Cannot save the plotly figure as {target!r}: image formats need the "
                    "'kaleido' package (pip install kaleido); use a '.html' file name instead"
                )
            figure.write_image(target)
        else:
            raise InvalidArgument(
                f"Cannot save the plotly figure as {target!r}: the extension must be '.html' "
                f"or one of {', '.join(repr(e) for e in _PLOTLY_IMAGE_EXTENSIONS)}"
            )
        return
    raise InvalidArgument(
        f"log_figure expects a matplotlib.figure.Figure or a plotly Figure, "
        f"not {type(figure).__module__}.{type(figure).__qualname__}"
    )


def _array_to_uint8(array: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    """Check an image array's shape, dtype and range, and convert it to uint8."""
    import numpy as np

    shape = array.shape
    if array.ndim == 3 and shape[2] == 1:
        array = array[:, :, 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
        raise InvalidArgument(
            f"log_image expects an array of shape HxW, HxWx1, HxWx3 (RGB) or HxWx4 (RGBA), "
            f"got shape {shape}"
        )
    if array.size == 0:
        raise InvalidArgument(f"log_image expects a non-empty image, got shape {shape}")
    kind = array.dtype.kind
    if kind == "b":
        return array.astype(np.uint8) * np.uint8(255)
    if kind in "iu":
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 255:
            raise InvalidArgument(
                f"log_image expects integer pixel values in [0, 255], got values in "
                f"[{low}, {high}]; clip or rescale the array first"
            )
        return array.astype(np.uint8)
    if kind == "f":
        if not np.isfinite(array).all():
            raise InvalidArgument("log_image expects finite float pixel values, got NaN or inf")
        low_f, high_f = float(array.min()), float(array.max())
        if low_f < 0.0 or high_f > 1.0:
            raise InvalidArgument(
                f"log_image expects float pixel values in [0, 1], got values in "
                f"[{low_f}, {high_f}]; clip or rescale the array first"
            )
        return np.rint(array.astype(np.float64) * 255.0).astype(np.uint8)
    raise InvalidArgument(
        f"log_image expects a bool, integer or float array, got dtype {array.dtype}"
    )


def to_pil(image: Any) -> PILImage.Image:
    """*image* (a numpy array, a PIL image or an ``mltrail.Image``) as a PIL image."""
    inner = getattr(image, "to_pil", None)
    if callable(inner):
        return inner()  # type: ignore[no-any-return]
    if "numpy" in sys.modules:
        import numpy as np

        if isinstance(image, np.ndarray):
            require("PIL.Image")
            from PIL import Image

            return Image.fromarray(_array_to_uint8(image))
    if "PIL.Image" in sys.modules:
        from PIL import Image

        if isinstance(image, Image.Image):
            return image
    raise InvalidArgument(
        f"log_image expects a numpy.ndarray, a PIL.Image.Image or an mltrail.Image, "
        f"not {type(image).__module__}.{type(image).__qualname__}"
    )


def write_image(image: Any, path: StrPath) -> None:
    """Save a numpy array or a PIL image with PIL; the format follows the file extension.

    Arrays must be HxW (grey), HxWx1, HxWx3 (RGB) or HxWx4 (RGBA); integer values must lie in
    [0, 255], float values in [0, 1] (scaled by 255 and rounded), booleans become 0 and 255.
    """
    target = os.fspath(path)
    pil_image = to_pil(image)
    try:
        pil_image.save(target)
    except (ValueError, OSError, KeyError) as exc:
        raise InvalidArgument(
            f"Cannot save the image (mode {pil_image.mode}) as {target!r}: {exc}"
        ) from exc
