"""The UI with authentication (issue 18): a real ``mltrail server --app-name basic-auth`` and
Chromium.  The sign-in page, the user menu, the admin pages (users, permissions, tokens, audit),
the session cookie and its CSRF token; and, on the session's auth-off server, no sign-in at all.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from tests._live_server import clean_env, find_free_port, mltrail_command, start_process
from tests.ui._browser import STATIC_INDEX, Server, missing, open_page, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ADMIN_PASSWORD = "Tr41l-admin-Pa55word!"
EXPERIMENTS = "aside[aria-label=Experiments] [data-testid=experiment-item]"


@dataclass
class AuthServer:
    url: str
    open_id: str  # an experiment every user reads (the default permission)
    secret_id: str  # the one the tests hide from a user

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, f"{self.url}/ajax-api/2.0/{path}", timeout=30, **kwargs)


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    if not STATIC_INDEX.is_file():
        missing("the UI is not built: run `npm ci && npm run build` in ui/")
    tmp = tmp_path_factory.mktemp("ui-auth-server")
    uri = f"sqlite:///{tmp / 'store.db'}"
    # Seeded by a process of its own: this one keeps no connection to the server's file.
    seeding = (
        "import sys, mltrail; mltrail.set_tracking_uri(sys.argv[1]); "
        "print(mltrail.create_experiment('open-exp', artifact_location=sys.argv[2] + '/open')); "
        "print(mltrail.create_experiment('secret-exp', artifact_location=sys.argv[2] + '/secret'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", seeding, uri, str(tmp / "a")],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    open_id, secret_id = done.stdout.split()
    port = find_free_port()
    command = mltrail_command(
        "server",
        "--app-name",
        "basic-auth",
        "--backend-store-uri",
        uri,
        "--default-artifact-root",
        str(tmp / "a"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    )
    env = clean_env({"MLTRAIL_AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD})
    try:
        process = start_process(command, f"http://127.0.0.1:{port}", cwd=tmp, env=env)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield AuthServer(url=process.url, open_id=open_id, secret_id=secret_id)
    finally:
        process.stop()


@contextlib.contextmanager
def auth_page(browser: Browser, server: AuthServer) -> Iterator[Page]:
    """A page of its own browser context on the auth server (the server sends the UI's calls
    no Basic challenge, on which Chromium would hold them for its own sign-in dialog)."""
    with open_page(browser, server.url) as page:
        yield page


def sign_in(page: Page, username: str, password: str) -> None:
    form = page.get_by_test_id("login-form")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("user-menu").wait_for()


def open_menu_item(page: Page, name: str) -> None:
    page.get_by_test_id("user-menu").click()
    page.get_by_role("menu").get_by_role("menuitem", name=name, exact=True).click()


def sidebar_names(page: Page) -> list[str]:
    names: list[str] = page.eval_on_selector_all(
        f"{EXPERIMENTS} .name", "els => els.map(e => e.textContent)"
    )
    return names


# -- authentication off: the UI as it always was -----------------------------------------------


def test_auth_off_shows_no_sign_in_and_no_menu(page: Page, server: Server) -> None:
    probe = server.api("GET", "users/current")
    assert probe.status_code == 404
    assert probe.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    page.goto(f"/experiments/{server.data.experiment_id}")
    page.locator(EXPERIMENTS).first.wait_for()
    assert "vision-sweep" in sidebar_names(page)
    assert page.get_by_test_id("login-form").count() == 0
    assert page.get_by_test_id("user-menu").count() == 0
    assert page.get_by_text("Signed in as").count() == 0
    page.goto("/admin/users")
    page.get_by_role("heading", name="Page not found").wait_for()


# -- authentication on ---------------------------------------------------------------------------


def test_ui_calls_get_no_basic_challenge(auth_server: AuthServer) -> None:
    answer = auth_server.api(
        "GET", "mlflow/users/current", headers={"X-Requested-With": "XMLHttpRequest"}
    )
    assert answer.status_code == 401
    assert "www-authenticate" not in answer.headers
    client = httpx.get(f"{auth_server.url}/api/2.0/mlflow/users/current")
    assert client.status_code == 401
    assert client.headers["www-authenticate"] == 'Basic realm="mltrail"'  # as MLflow's


def test_sign_in_page_error_and_return_to_the_wanted_page(
    browser: Browser, auth_server: AuthServer
) -> None:
    with auth_page(browser, auth_server) as page:
        page.goto(f"/experiments/{auth_server.secret_id}")
        form = page.get_by_test_id("login-form")
        form.wait_for()
        assert page.locator("aside[aria-label=Experiments]").count() == 0
        assert page.get_by_test_id("user-menu").count() == 0
        screenshot(page, "auth-login")

        form.get_by_label("Username").fill("admin")
        form.get_by_label("Password").fill("not-the-password")
        form.get_by_role("button", name="Sign in").click()
        alert = form.get_by_role("alert")
        alert.wait_for()
        assert "Invalid username or password" in alert.inner_text()
        assert form.get_by_label("Password").input_value() == ""
        screenshot(page, "auth-login-wrong-password")

        sign_in(page, "admin", ADMIN_PASSWORD)
        # Back where the user wanted to go, the experiments page with the menu.
        assert page.url.endswith(f"/experiments/{auth_server.secret_id}")
        page.locator(EXPERIMENTS).first.wait_for()
        assert {"open-exp", "secret-exp"} <= set(sidebar_names(page))
        page.get_by_role("heading", name="secret-exp").wait_for()
        menu = page.get_by_test_id("user-menu")
        assert " ".join(menu.inner_text().split()) == "Signed in as admin admin ▾"
        menu.click()
        items = page.get_by_role("menu").get_by_role("menuitem").all_inner_texts()
        assert items == [
            "Change my password",
            "My tokens",
            "Users",
            "Permissions",
            "All tokens",
            "Audit log",
            "Sign out",
        ]
        screenshot(page, "auth-signed-in-menu")
        # A reload keeps the session (the cookie) and its CSRF token (read from users/current).
        page.reload()
        page.get_by_test_id("user-menu").wait_for()
        status = page.evaluate(
            """async () => (await fetch('/ajax-api/2.0/mlflow/users/current')).status"""
        )
        assert status == 200


def test_too_many_failures_shows_the_servers_message(
    browser: Browser, auth_server: AuthServer
) -> None:
    # A real 429 would lock every test's address out; the UI's part is showing the answer.
    message = "Too many failed logins for user 'admin': try again in 287 s"
    with auth_page(browser, auth_server) as page:
        page.route(
            "**/ajax-api/2.0/mltrail/auth/login",
            lambda route: route.fulfill(
                status=429,
                content_type="application/json",
                body=f'{{"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "{message}"}}',
            ),
        )
        page.goto("/")
        form = page.get_by_test_id("login-form")
        form.get_by_label("Username").fill("admin")
        form.get_by_label("Password").fill("whatever")
        form.get_by_role("button", name="Sign in").click()
        assert form.get_by_role("alert").inner_text().strip() == message


def test_admin_creates_a_user_and_hides_an_experiment_from_them(
    browser: Browser, auth_server: AuthServer
) -> None:
    with auth_page(browser, auth_server) as page:
        page.goto("/")
        sign_in(page, "admin", ADMIN_PASSWORD)
        open_menu_item(page, "Users")
        page.wait_for_url("**/admin/users")
        users = page.get_by_test_id("users-page")
        users.get_by_label("New username").fill("ana")
        users.get_by_label("New user's password").fill("ana-s3cret-pass")
        users.get_by_role("button", name="Create user").click()
        page.get_by_role("status").filter(has_text="User ana created").wait_for()
        row = page.locator("[data-testid=user-row][data-username=ana]")
        assert "user" in row.inner_text()

        # What the server refuses, the page says in the server's words.
        page.once("dialog", lambda d: d.accept())
        page.locator("[data-testid=user-row][data-username=admin]").get_by_role(
            "button", name="Delete"
        ).click()
        refusal = users.get_by_role("alert")
        refusal.wait_for()
        assert "cannot delete their own account" in refusal.inner_text()
        screenshot(page, "auth-users")

        row.get_by_role("link", name="Permissions").click()
        page.wait_for_url("**/admin/permissions?user=ana")
        perms = page.get_by_test_id("permissions-page")
        perms.get_by_text("No grants").wait_for()
        perms.get_by_label("Experiment id or name").fill("secret-exp")
        perms.get_by_label("Permission", exact=True).select_option("NO_PERMISSIONS")
        perms.get_by_role("button", name="Grant").click()
        grant = perms.locator(
            f"[data-testid=grant-row][data-resource='experiment:{auth_server.secret_id}']"
        )
        grant.wait_for()
        assert "secret-exp" in grant.inner_text()
        assert grant.get_by_role("combobox").input_value() == "NO_PERMISSIONS"
        # An unknown name is refused before any call.
        perms.get_by_label("Experiment id or name").fill("no-such-exp")
        perms.get_by_role("button", name="Grant").click()
        assert "No experiment has the id or the name" in perms.get_by_role("alert").inner_text()
        screenshot(page, "auth-permissions")

        open_menu_item(page, "Audit log")
        table = page.get_by_test_id("audit-table")
        table.wait_for()
        text = table.inner_text()
        assert "permission.grant" in text
        assert "user.create" in text
        assert "permission=NO_PERMISSIONS" in text
        # Narrowed to one kind of action, then to a user with no events, then cleared.
        audit = page.get_by_test_id("audit-page")
        audit.get_by_label("Action").fill("permission")
        audit.get_by_role("button", name="Filter").click()
        rows = page.get_by_test_id("audit-row")
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=audit-row]')]"
            ".every(r => r.innerText.includes('permission.'))"
        )
        assert rows.count() >= 1
        assert "user.create" not in table.inner_text()
        screenshot(page, "auth-audit")
        audit.get_by_label("User").fill("nobody-at-all")
        audit.get_by_role("button", name="Filter").click()
        assert "No event matches" in page.get_by_test_id("audit-empty").inner_text()
        audit.get_by_role("button", name="Clear").click()
        page.get_by_test_id("audit-table").filter(has_text="user.create").wait_for()

    with auth_page(browser, auth_server) as page:  # ana, in a browser of her own
        page.goto("/experiments/all")
        sign_in(page, "ana", "ana-s3cret-pass")
        page.locator(EXPERIMENTS).first.wait_for()
        names = sidebar_names(page)
        assert "open-exp" in names
        assert "secret-exp" not in names
        page.get_by_test_id("user-menu").click()
        items = page.get_by_role("menu").get_by_role("menuitem").all_inner_texts()
        assert items == ["Change my password", "My tokens", "Sign out"]
        screenshot(page, "auth-user-view")
        page.keyboard.press("Escape")
        page.goto("/admin/users")
        page.get_by_test_id("admins-only").wait_for()


def test_token_is_shown_once_then_listed_and_revoked(
    browser: Browser, auth_server: AuthServer
) -> None:
    with auth_page(browser, auth_server) as page:
        page.goto("/")
        sign_in(page, "admin", ADMIN_PASSWORD)
        open_menu_item(page, "My tokens")
        page.wait_for_url("**/account/tokens")
        tokens = page.get_by_test_id("tokens-page")
        tokens.get_by_label("Token name").fill("ci-runner")
        tokens.get_by_label("Expires in").select_option("30")
        tokens.get_by_role("button", name="Create token").click()
        shown = page.get_by_test_id("new-token")
        shown.wait_for()
        assert "you will not see it again" in shown.inner_text()
        secret = page.get_by_test_id("new-token-value").input_value()
        assert re.fullmatch(r"mlt_\S{20,}", secret)
        row = page.locator("[data-testid=token-row]").filter(has_text="ci-runner")
        row.wait_for()
        assert "active" in row.inner_text()
        screenshot(page, "auth-token-created")

        # The token works for a client, as MLFLOW_TRACKING_TOKEN would send it.
        headers = {"Authorization": f"Bearer {secret}"}
        assert auth_server.api("GET", "mlflow/users/current", headers=headers).status_code == 200

        shown.get_by_role("button", name="Done").click()
        assert page.get_by_test_id("new-token").count() == 0
        page.reload()
        page.get_by_test_id("tokens-table").wait_for()
        assert secret not in page.content()  # listed, never shown again

        page.once("dialog", lambda d: d.accept())
        row.get_by_role("button", name="Revoke").click()
        page.locator("[data-testid=token-row]").filter(has_text="ci-runner").filter(
            has_text="revoked"
        ).wait_for()
        assert auth_server.api("GET", "mlflow/users/current", headers=headers).status_code == 401


def test_sign_out_returns_to_the_sign_in_page(browser: Browser, auth_server: AuthServer) -> None:
    with auth_page(browser, auth_server) as page:
        page.goto("/")
        sign_in(page, "admin", ADMIN_PASSWORD)
        open_menu_item(page, "Sign out")
        page.get_by_test_id("login-form").wait_for()
        assert page.get_by_test_id("user-menu").count() == 0
        assert not [c for c in page.context.cookies() if c["name"] == "mltrail_session"]
        page.reload()
        page.get_by_test_id("login-form").wait_for()


def test_a_session_that_ends_brings_the_sign_in_page_back(
    browser: Browser, auth_server: AuthServer
) -> None:
    with auth_page(browser, auth_server) as page:
        page.goto(f"/experiments/{auth_server.open_id}")
        sign_in(page, "admin", ADMIN_PASSWORD)
        page.get_by_role("heading", name="open-exp").wait_for()
        # The session ends on the server (signed out elsewhere) while the page is open.
        cookie = next(c for c in page.context.cookies() if c["name"] == "mltrail_session")
        jar = {"mltrail_session": cookie["value"]}
        csrf = auth_server.api("GET", "mlflow/users/current", cookies=jar).json()["csrf_token"]
        ended = auth_server.api(
            "POST", "mltrail/auth/logout", cookies=jar, headers={"X-CSRF-Token": csrf}
        )
        assert ended.status_code == 200
        page.locator(EXPERIMENTS).filter(has_text="secret-exp").click()
        form = page.get_by_test_id("login-form")
        form.wait_for()
        assert "session has ended" in page.get_by_test_id("login-reason").inner_text()
        assert page.url.endswith(f"/experiments/{auth_server.secret_id}")
        screenshot(page, "auth-session-ended")
        sign_in(page, "admin", ADMIN_PASSWORD)
        page.get_by_role("heading", name="secret-exp").wait_for()


def test_csrf_header_is_required_and_the_cookie_is_http_only(
    browser: Browser, auth_server: AuthServer
) -> None:
    with auth_page(browser, auth_server) as page:
        page.goto("/")
        sign_in(page, "admin", ADMIN_PASSWORD)
        cookie = next(c for c in page.context.cookies() if c["name"] == "mltrail_session")
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Strict"
        assert "mltrail_session" not in page.evaluate("document.cookie")

        script = """async (withToken) => {
            const headers = {'Content-Type': 'application/json'};
            if (withToken) {
                const me = await (await fetch('/ajax-api/2.0/mlflow/users/current')).json();
                headers['X-CSRF-Token'] = me.csrf_token;
            }
            const r = await fetch('/ajax-api/2.0/mlflow/experiments/create', {
                method: 'POST', headers,
                body: JSON.stringify({name: withToken ? 'csrf-with' : 'csrf-without'}),
            });
            return [r.status, await r.json()];
        }"""
        status, body = page.evaluate(script, False)
        assert status == 403
        assert body["error_code"] == "PERMISSION_DENIED"
        assert "x-csrf-token" in body["message"]
        status, body = page.evaluate(script, True)
        assert status == 200
        assert body["experiment_id"]

        # And the UI's own changes carry it: creating an experiment from the sidebar works.
        page.get_by_role("button", name="+ New").click()
        dialog = page.get_by_role("dialog", name="Create experiment")
        dialog.get_by_label("Name").fill("made-in-the-ui")
        dialog.get_by_role("button", name="Create").click()
        page.get_by_role("heading", name="made-in-the-ui").wait_for()


def test_change_my_password(browser: Browser, auth_server: AuthServer) -> None:
    admin = httpx.BasicAuth("admin", ADMIN_PASSWORD)
    created = auth_server.api(
        "POST",
        "mlflow/users/create",
        json={"username": "bo", "password": "bo-first-pass"},
        auth=admin,
    )
    assert created.status_code == 200, created.text
    with auth_page(browser, auth_server) as page:
        page.goto("/")
        sign_in(page, "bo", "bo-first-pass")
        page.get_by_test_id("user-menu").click()
        page.get_by_role("menuitem", name="Change my password").click()
        dialog = page.get_by_role("dialog", name="Change my password")
        dialog.get_by_label("Current password").fill("wrong-one")
        dialog.get_by_label("New password", exact=True).fill("bo-second-pass")
        dialog.get_by_label("New password again").fill("bo-second-pass")
        dialog.get_by_role("button", name="Change password").click()
        assert "does not match" in dialog.get_by_role("alert").inner_text()
        dialog.get_by_label("Current password").fill("bo-first-pass")
        dialog.get_by_role("button", name="Change password").click()
        dialog.get_by_test_id("password-changed").wait_for()
    old = auth_server.api("GET", "mlflow/users/current", auth=("bo", "bo-first-pass"))
    new = auth_server.api("GET", "mlflow/users/current", auth=("bo", "bo-second-pass"))
    assert (old.status_code, new.status_code) == (401, 200)
