"""``python -m mltrail.serving serve|predict``: the entry point inside a model's environment.

``mltrail models serve|predict --env-manager virtualenv|uv`` and the generated Dockerfile run
this with the environment's interpreter on a local model directory.  It needs only the
scoring server's dependencies (not the command line or the tracking store).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mltrail._exceptions import InvalidArgument, MltrailError
from mltrail.serving._app import ScoringSettings
from mltrail.serving._predict import open_input, predict_stream
from mltrail.serving._server import ServerOptions, load_model, serve


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mltrail.serving", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve a local model directory")
    serve.add_argument("--model-path", required=True)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--timeout", type=float, default=60.0)
    serve.add_argument("--max-body-size", type=int, default=100 * 1024 * 1024)
    serve.add_argument("--max-columns", type=int, default=10_000)
    serve.add_argument("--threads", type=int, default=4)
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--access-log", action="store_true")
    predict = sub.add_parser("predict", help="score a file with a local model directory")
    predict.add_argument("--model-path", required=True)
    predict.add_argument("--input", default=None)
    predict.add_argument("--output", default=None)
    predict.add_argument("--content-type", default="json", choices=["json", "csv", "parquet"])
    predict.add_argument("--output-type", default="json", choices=["json", "csv"])
    predict.add_argument("--batch-size", type=int, default=10_000)
    predict.add_argument(
        "--model-config", default=None, help="a JSON object given to the model as model_config"
    )
    return p


def _model_config(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        config = json.loads(text)
    except ValueError as exc:
        raise InvalidArgument(f"Invalid --model-config: not JSON ({exc})") from None
    if not isinstance(config, dict):
        raise InvalidArgument("Invalid --model-config: must be a JSON object")
    return config


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            settings = ScoringSettings(
                timeout=args.timeout if args.timeout > 0 else None,
                max_body_bytes=args.max_body_size,
                threads=args.threads,
                max_columns=args.max_columns,
            )
            options = ServerOptions(
                host=args.host,
                port=args.port,
                workers=args.workers,
                log_level=args.log_level,
                access_log=args.access_log,
            )
            serve(args.model_path, settings, options)
            return 0

        model = load_model(args.model_path, _model_config(args.model_config))
        source = open_input(args.input)
        try:
            if args.output is None or args.output == "-":
                predict_stream(
                    model, source, sys.stdout, args.content_type, args.output_type, args.batch_size
                )
            else:
                with open(args.output, "w", encoding="utf-8", newline="") as sink:
                    predict_stream(
                        model, source, sink, args.content_type, args.output_type, args.batch_size
                    )
        finally:
            if source is not sys.stdin.buffer:
                source.close()
        return 0
    except MltrailError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        return 1
    except ImportError as exc:
        print(
            f"Error: cannot load the model in this environment: {exc} (is a package missing "
            "from the model's requirements.txt?)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
