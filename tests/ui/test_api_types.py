"""ui/src/api/generated.ts is the server's OpenAPI document in TypeScript, up to date.

An endpoint whose schema changed without running ``python scripts/gen_ui_api_types.py`` fails
here; ``npm run typecheck`` then checks the UI's types (ui/src/api/types.ts) against it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "ui" / "src" / "api" / "generated.ts"
SCRIPT = ROOT / "scripts" / "gen_ui_api_types.py"


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_ui_api_types", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _served_document(tmp_path: Path) -> dict[str, Any]:
    from mltrail.server import ServerSettings, create_app

    app = create_app(
        ServerSettings(
            backend_store_uri=f"sqlite:///{tmp_path / 'mltrail.db'}",
            artifacts_destination=str(tmp_path / "artifacts"),
        )
    )

    async def fetch() -> dict[str, Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            response = await c.get("/api/openapi.json")
            assert response.status_code == 200, response.text
            document: dict[str, Any] = response.json()
            return document

    return asyncio.run(fetch())


def test_the_generated_file_is_up_to_date(gen: ModuleType) -> None:
    assert GENERATED.read_text(encoding="utf-8") == gen.render(gen.openapi_document()), (
        "ui/src/api/generated.ts is out of date: run python scripts/gen_ui_api_types.py"
    )


def test_the_script_reads_the_document_the_server_serves(gen: ModuleType, tmp_path: Path) -> None:
    served = _served_document(tmp_path)
    built = gen.openapi_document()
    assert served["paths"] == built["paths"]
    assert served["components"] == built["components"]


def test_every_json_operation_has_its_types(gen: ModuleType) -> None:
    text = GENERATED.read_text(encoding="utf-8")
    document = gen.openapi_document()
    for path, item in document["paths"].items():
        for method, op in item.items():
            base = op["operationId"][0].upper() + op["operationId"][1:]
            ok = op["responses"].get("200", {}).get("content", {})
            if "application/json" in ok:
                assert f"export interface {base}Response " in text or (
                    f"export type {base}Response = " in text
                ), base
                assert f'"{method.upper()} {path}": {{' in text, (method, path)
            if "application/json" in op.get("requestBody", {}).get("content", {}):
                assert re.search(rf"export (interface|type) {base}Request\b", text), base
            if any(p["in"] == "query" for p in op.get("parameters", ())):
                assert f"export interface {base}Query " in text, base


def test_schemas_become_typescript(gen: ModuleType) -> None:
    ts = gen.ts_type
    assert ts({"type": "string"}) == "string"
    assert ts({"type": "integer", "format": "int64"}) == "number"
    assert ts({"type": "string", "enum": ["A", "B"]}) == '"A" | "B"'
    assert ts({"type": ["string", "null"]}) == "string | null"
    assert ts({"oneOf": [{"type": "number"}, {"enum": ["NaN"]}]}) == 'number | "NaN"'
    assert ts({"type": "array", "items": {"enum": ["x", "y"]}}) == '("x" | "y")[]'
    assert ts({"type": "array", "items": {"type": "boolean"}}) == "boolean[]"
    assert ts({"$ref": "#/components/schemas/Error"}) == "ErrorSchema"
    assert ts({"type": "object", "properties": {}}) == "Record<string, never>"
    assert ts({"type": "object", "additionalProperties": {"type": "string"}}) == (
        "Record<string, string>"
    )
    obj = ts(
        {
            "type": "object",
            "properties": {"run_id": {"type": "string", "description": "The run."}, "a-b": {}},
            "required": ["run_id"],
        }
    )
    assert obj == '{\n  /** The run. */\n  run_id: string;\n  "a-b"?: unknown;\n}'
    with pytest.raises(ValueError, match="unsupported"):
        ts({"$ref": "other.json#/x"})


def test_check_mode_fails_on_a_stale_file(gen: ModuleType, tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "generated.ts"
    assert gen.main(["--check", "--output", str(out)]) == 1  # missing
    assert gen.main(["--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == GENERATED.read_text(encoding="utf-8")
    assert gen.main(["--check", "--output", str(out)]) == 0
    out.write_text(out.read_text(encoding="utf-8").replace("run_id", "runId", 1))
    assert gen.main(["--check", "--output", str(out)]) == 1
    assert "out of date" in capsys.readouterr().err
