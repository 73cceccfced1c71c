"""Project runs on the run page (issue 19, point 6): a "Project" card shows the entry point,
the environment manager, the parameters given, the source, the git commit linked to its page on
a known host, the branch, the exit code of a failed run, the run it reproduced, and the command
that runs it again (with a copy button); a run that is no project run has no such card.

The runs are made through the server's REST API with the tags ``mltrail run`` writes, named by
the constants of ``mltrail.projects`` (running a project would cost a subprocess for nothing
the page reads). Screenshot: ``test-artifacts/ui/project-run.png`` (look at it).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from tests.ui._browser import Server, screenshot

from mltrail import MlflowClient
from mltrail._run_context import (
    GIT_BRANCH_TAG,
    GIT_COMMIT_TAG,
    GIT_DIRTY_TAG,
    GIT_REPO_URL_TAG,
    SOURCE_NAME_TAG,
    SOURCE_TYPE_TAG,
    USER_TAG,
)
from mltrail.entities import Param
from mltrail.projects._reproduce import REPRODUCED_FROM_TAG
from mltrail.projects._run import (
    BACKEND_TAG,
    ENTRY_POINT_TAG,
    ENV_TAG,
    EXIT_CODE_TAG,
    PARAMETERS_TAG,
    PROJECT_SOURCE_TYPE,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.slow

SHA = "3f2c9a7be41d0c6a58e2f7d913b04c5a6e8d1f20"
REPO_URL = "git@github.com:acme/tutorial.git"
GIVEN = {"alpha": "0.1", "label": "first try"}  # -P alpha=0.1 -P 'label=first try'
PARAMS = {"alpha": "0.1", "epochs": "3", "label": "first try"}  # with the declared default


@dataclass
class ProjectRuns:
    experiment_id: str
    original: str
    reproduced: str
    script: str  # a run of a script in a git repository: no project run


def _project_tags(given: dict[str, str]) -> dict[str, str]:
    """The tags of `mltrail run 'file:///home/ada/tutorial#train' --env-manager uv -P ...` in
    a clone of git@github.com:acme/tutorial.git (src/mltrail/projects/_run.py, _fetch.py)."""
    return {
        USER_TAG: "ada",
        SOURCE_NAME_TAG: "file:///home/ada/tutorial#train",
        SOURCE_TYPE_TAG: PROJECT_SOURCE_TYPE,
        ENTRY_POINT_TAG: "main",
        ENV_TAG: "uv",
        BACKEND_TAG: "local",
        GIT_COMMIT_TAG: SHA,
        GIT_BRANCH_TAG: "main",
        GIT_REPO_URL_TAG: REPO_URL,
        GIT_DIRTY_TAG: "false",
        PARAMETERS_TAG: json.dumps(given, sort_keys=True),
    }


@pytest.fixture(scope="module")
def runs(server: Server) -> ProjectRuns:
    client = MlflowClient(tracking_uri=server.url)
    exp = client.create_experiment("tutorial-project")
    params = [Param(k, v) for k, v in PARAMS.items()]

    original = client.create_run(exp, tags=_project_tags(GIVEN), run_name="tutorial-first")
    client.log_batch(original.info.run_id, params=params)
    client.set_tag(original.info.run_id, EXIT_CODE_TAG, "0")
    client.set_terminated(original.info.run_id, "FINISHED")

    # `mltrail run --from-run <original>`: the same tags, marked; this one failed.
    tags = {**_project_tags(GIVEN), REPRODUCED_FROM_TAG: original.info.run_id}
    tags.pop(GIT_DIRTY_TAG)  # a clone at the recorded commit is never dirty
    reproduced = client.create_run(exp, tags=tags, run_name="tutorial-again")
    client.log_batch(reproduced.info.run_id, params=params)
    client.set_tag(reproduced.info.run_id, EXIT_CODE_TAG, "2")
    client.set_terminated(reproduced.info.run_id, "FAILED")

    script = client.create_run(
        exp,
        tags={
            SOURCE_NAME_TAG: "/home/ada/tutorial/train.py",
            SOURCE_TYPE_TAG: "LOCAL",
            GIT_COMMIT_TAG: SHA,
            GIT_REPO_URL_TAG: "https://gitlab.com/acme/vision/tutorial.git",
        },
        run_name="script-run",
    )
    client.set_terminated(script.info.run_id, "FINISHED")
    return ProjectRuns(exp, original.info.run_id, reproduced.info.run_id, script.info.run_id)


def test_project_run_page_shows_what_ran_and_how_to_run_it_again(
    page: Page, server: Server, runs: ProjectRuns
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"/runs/{runs.reproduced}")
    card = page.get_by_test_id("project-card")
    card.wait_for()
    rows = dict(
        zip(
            card.locator("table.kv th").all_inner_texts(),
            card.locator("table.kv td").all_inner_texts(),
            strict=True,
        )
    )
    assert rows["Entry point"] == "main"
    assert rows["Environment"] == "uv"
    assert rows["Source"] == "file:///home/ada/tutorial#train"
    assert rows["Git branch"] == "main"
    assert rows["Exit code"] == "2"
    assert rows["Repository"] == REPO_URL
    # The parameters given, not the default the params also hold (epochs).
    assert card.locator(".tag-chip").all_inner_texts() == ["alpha=0.1", "label=first try"]
    # The commit, short, linked to its page on GitHub (from the scp-like remote).
    commit = card.get_by_test_id("git-commit")
    assert commit.inner_text() == SHA[:7]
    assert commit.get_attribute("href") == f"https://github.com/acme/tutorial/commit/{SHA}"
    assert card.get_by_role("link", name=REPO_URL).get_attribute("href") == (
        "https://github.com/acme/tutorial"
    )
    # The run it reproduced, by name, linked.
    original = card.get_by_test_id("reproduced-from").filter(has_text="tutorial-first")
    original.wait_for()
    assert original.get_attribute("href") == f"/runs/{runs.original}"
    # Details does not repeat the git rows the card shows.
    details = page.locator(".card").filter(has=page.get_by_role("heading", name="Details"))
    assert "Git commit" not in details.inner_text()

    expected = f"mltrail run --from-run {runs.reproduced} --tracking-uri {server.url}"
    assert card.get_by_test_id("reproduce-command").inner_text() == expected
    copy = card.get_by_role("button", name="Copy").first
    assert copy.get_attribute("data-copy") == expected
    copy.click()
    page.get_by_role("button", name="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == expected

    # The same run spelled out: what --from-run passes, as shell words.
    card.get_by_text("The same command, spelled out").click()
    explicit = card.get_by_test_id("explicit-command")
    explicit.wait_for()
    assert shlex.split(explicit.inner_text()) == [
        "mltrail",
        "run",
        "file:///home/ada/tutorial#train",
        "-e",
        "main",
        "-v",
        SHA,
        "-P",
        "alpha=0.1",
        "-P",
        "label=first try",
        "--env-manager",
        "uv",
        "--experiment-id",
        runs.experiment_id,
        "--tracking-uri",
        server.url,
    ]
    card.scroll_into_view_if_needed()
    screenshot(page, "project-run")

    # The original: finished, so no exit code row; reproduced from nothing.
    original.click()
    page.get_by_test_id("run-title").filter(has_text="tutorial-first").wait_for()
    card.wait_for()
    assert "Exit code" not in card.inner_text()
    assert card.get_by_test_id("reproduced-from").count() == 0


def test_a_run_that_is_no_project_run_has_no_project_card(page: Page, runs: ProjectRuns) -> None:
    page.goto(f"/runs/{runs.script}")
    page.get_by_test_id("run-title").filter(has_text="script-run").wait_for()
    # Its commit is in Details, linked too (GitLab, nested group).
    commit = page.get_by_test_id("git-commit")
    commit.wait_for()
    assert commit.get_attribute("href") == (
        f"https://gitlab.com/acme/vision/tutorial/-/commit/{SHA}"
    )
    assert page.get_by_test_id("project-card").count() == 0
    assert page.get_by_role("heading", name="Project", exact=True).count() == 0
