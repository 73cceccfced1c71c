"""docs/cli.md documents every command, exactly as its --help reads (Datasette style).

A command added or changed without running ``python scripts/gen_cli_docs.py`` fails here.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import click
import pytest

from mltrail.cli import cli

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "cli.md"
SCRIPT = ROOT / "scripts" / "gen_cli_docs.py"


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_cli_docs", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _all_commands(command: click.Command, path: tuple[str, ...] = ()) -> list[str]:
    names = [" ".join(("mltrail", *path))]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            names += _all_commands(sub, (*path, name))
    return names


def test_every_command_has_a_section() -> None:
    documented = re.findall(r"^## (mltrail.*)$", DOCS.read_text(encoding="utf-8"), re.M)
    assert sorted(documented) == sorted(_all_commands(cli))


def test_the_reference_matches_the_help(gen: ModuleType) -> None:
    assert DOCS.read_text(encoding="utf-8") == gen.render(), (
        "docs/cli.md is out of date: run python scripts/gen_cli_docs.py"
    )


def test_each_section_is_the_commands_help(gen: ModuleType) -> None:
    text = DOCS.read_text(encoding="utf-8")
    for title in _all_commands(cli):
        path = title.split()[1:]
        section = text.split(f"\n## {title}\n\n```text\n", 1)[1].split("\n```\n", 1)[0]
        assert section == gen.help_text(path).rstrip(), title


def test_check_mode_fails_on_a_stale_file(gen: ModuleType, tmp_path: Path, capsys) -> None:
    stale = tmp_path / "cli.md"
    assert gen.main(["--check", "--output", str(stale)]) == 1  # missing
    assert gen.main(["--output", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == DOCS.read_text(encoding="utf-8")
    assert gen.main(["--check", "--output", str(stale)]) == 0
    stale.write_text(stale.read_text(encoding="utf-8").replace("## mltrail gc\n", ""))
    assert gen.main(["--check", "--output", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err
