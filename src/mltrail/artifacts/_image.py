"""``mltrail.Image`` (MLflow's ``mlflow.Image``): an image held as a PIL image, made from a
numpy array, a list of pixel rows, a PIL image or an image file; ``log_image`` takes it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from mltrail._exceptions import InvalidArgument
from mltrail._optional import require
from mltrail.artifacts._serialize import to_pil

if TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = ["Image"]


class Image:
    """An image: ``Image(array_or_pil_or_path)``; ``size`` is (width, height).

    Arrays follow ``log_image``'s rules (HxW, HxWx1, HxWx3 or HxWx4; integers in [0, 255],
    floats in [0, 1]).  Needs Pillow (and numpy for arrays and lists)."""

    def __init__(self, image: Any) -> None:
        require("PIL.Image")
        from PIL import Image as PIL

        if isinstance(image, (str, os.PathLike)):
            try:
                opened = PIL.open(os.fspath(image))
                opened.load()
            except (OSError, ValueError) as exc:
                raise InvalidArgument(f"Cannot read the image file {str(image)!r}: {exc}") from None
            self.image: PILImage.Image = opened
        elif isinstance(image, list):
            import numpy as np

            self.image = to_pil(np.array(image))
        elif isinstance(image, Image):
            self.image = image.image
        else:
            self.image = to_pil(image)
        self.size: tuple[int, int] = self.image.size

    def to_pil(self) -> PILImage.Image:
        return self.image

    def to_array(self) -> Any:
        """The pixels as a numpy array (HxW or HxWxC)."""
        import numpy as np

        return np.array(self.image)

    def to_list(self) -> list[Any]:
        """The pixels in row-major order (a value or a tuple of channel values each)."""
        return list(self.image.getdata())

    def resize(self, size: tuple[int, int]) -> Image:
        """A new image of *size* (width, height)."""
        return Image(self.image.resize(size))

    def save(self, path: str) -> None:
        """Write the image to *path*; the file's extension chooses the format."""
        self.image.save(path)

    def __repr__(self) -> str:
        return f"Image(size={self.size}, mode={self.image.mode!r})"
