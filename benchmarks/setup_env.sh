#!/usr/bin/env bash
# Create benchmarks/.venv with MLflow (3.x) and mltrail (editable) side by side.
# MLflow is only ever installed here, never as a project dependency.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="$HERE/.venv"

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# [auth]: both servers' --app-name basic-auth (MLflow: Flask-WTF; mltrail: argon2-cffi).
"$VENV/bin/python" -m pip install --quiet "mlflow[auth]>=3,<4"
"$VENV/bin/python" -m pip install --quiet -e "$HERE/..[auth]"
# The autolog benchmark trains XGBoost (scikit-learn comes with mlflow).
"$VENV/bin/python" -m pip install --quiet "xgboost>=2"
"$VENV/bin/python" - <<'PY'
import importlib.metadata as md
for name in ("mlflow", "mltrail"):
    try:
        print(f"{name} {md.version(name)}")
    except md.PackageNotFoundError:
        print(f"{name} NOT INSTALLED")
PY
