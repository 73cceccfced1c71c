"""``python -m mltrail.models._probe MODEL_DIR``: load a model, print the modules it needed.

Run in a fresh interpreter by :func:`mltrail.models._env.infer_requirements`.  The last line
printed is a JSON list of the top-level modules imported while loading the model, plus numpy
and pandas, which every python_function model needs at predict time.
"""

from __future__ import annotations

import json
import sys

__all__ = ["main"]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m mltrail.models._probe MODEL_DIR", file=sys.stderr)
        return 2
    import numpy  # noqa: F401
    import pandas  # noqa: F401

    from mltrail import pyfunc

    before = set(sys.modules)
    pyfunc.load_model(argv[1])
    loaded = {name.split(".", 1)[0] for name in set(sys.modules) - before}
    print(json.dumps(sorted(loaded | {"numpy", "pandas"})))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
