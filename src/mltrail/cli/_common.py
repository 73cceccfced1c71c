"""What every command shares: the tracking-URI option, output helpers, error handling, paging.

Nothing here imports the heavy parts of the library (SQLAlchemy, pandas): commands import
what they use inside their functions, so ``mltrail --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from mltrail._exceptions import MltrailError
from mltrail._optional import missing_dependency
from mltrail.tracking._client import MlflowClient

if TYPE_CHECKING:
    from mltrail.store import PagedList

__all__ = [
    "PAGE_SIZE",
    "PROGRESS_THRESHOLD",
    "collect_pages",
    "echo_json",
    "echo_json_lines",
    "echo_table",
    "format_time",
    "handle_errors",
    "id_list_callback",
    "json_option",
    "make_client",
    "max_results_option",
    "progress",
    "split_ids",
    "tracking_uri_option",
    "view_option",
]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

# Results fetched per request when a command pages through a search.
PAGE_SIZE = 1000
# Operations over more items than this show a progress bar (on stderr).
PROGRESS_THRESHOLD = 5

TRACKING_URI_ENV_VARS = ("MLTRAIL_TRACKING_URI", "MLFLOW_TRACKING_URI")

tracking_uri_option = click.option(
    "--tracking-uri",
    envvar=list(TRACKING_URI_ENV_VARS),
    show_envvar=True,
    default=None,
    metavar="URI",
    help=(
        "Tracking backend: a database URI (sqlite:///file.db, postgresql://..., mysql://...) "
        "or a local folder. Default: sqlite:///mltrail.db in the current folder."
    ),
)

view_option = click.option(
    "--view",
    "-v",
    "view",
    type=click.Choice(["active_only", "deleted_only", "all"], case_sensitive=False),
    default="active_only",
    show_default=True,
    metavar="VIEW",
    help="What to show: active_only, deleted_only or all.",
)

max_results_option = click.option(
    "--max-results",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Show at most N results (default: all of them).",
)

json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object per line instead of a table.",
)


def make_client(tracking_uri: str | None) -> MlflowClient:
    """A client of *tracking_uri* (None: the library's default, from the environment)."""
    return MlflowClient(tracking_uri or None)


def _database_error(exc: BaseException) -> str | None:
    """A message for a database that cannot be reached or opened; None for anything else.

    The driver's message is shown, never the SQL statement SQLAlchemy adds to its own.
    """
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is None or not isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        return None
    return f"Cannot use the tracking database: {getattr(exc, 'orig', None) or type(exc).__name__}"


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Expected errors end the command with ``Error: <message>`` on stderr and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except MltrailError as exc:
            raise click.ClickException(exc.message) from None
        except ModuleNotFoundError as exc:  # an optional package (others are raised as they are)
            raise click.ClickException(missing_dependency(exc).message) from None
        except OSError as exc:
            raise click.ClickException(str(exc)) from None
        except Exception as exc:
            message = _database_error(exc)
            if message is None:
                raise
            raise click.ClickException(message) from None

    return wrapper


def split_ids(value: str | None, what: str) -> list[str]:
    """``"a,b , c"`` -> ``["a", "b", "c"]`` (duplicates dropped); an empty item is an error."""
    if value is None:
        return []
    items = [item.strip() for item in value.split(",")]
    if not all(items):
        raise click.BadParameter(f"expected a comma-separated list of {what}, got {value!r}")
    return list(dict.fromkeys(items))


def id_list_callback(what: str) -> Callable[[click.Context, click.Parameter, Any], list[str]]:
    """An option callback turning ``a,b,c`` into a list of ids (see :func:`split_ids`)."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> list[str]:
        return split_ids(value, what)

    return callback


# -- output --------------------------------------------------------------------------------------


def format_time(ms: int | None) -> str:
    """Milliseconds since the epoch as local time; empty for None."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def echo_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Left-aligned columns under a header line; nothing is cut short."""
    table = [list(headers), *([str(cell) for cell in row] for row in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    table.insert(1, ["-" * w for w in widths])
    for row in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _entity_json(value: Any) -> Any:
    """JSON for an entity inside an entity's dictionary (a run's model inputs)."""
    if callable(getattr(value, "to_dictionary", None)):
        return value.to_dictionary()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=_entity_json))


def echo_json_lines(values: Iterable[Any]) -> None:
    for value in values:
        click.echo(json.dumps(value, default=_entity_json))


# -- long operations -----------------------------------------------------------------------------


def progress(items: Sequence[T], label: str) -> contextlib.AbstractContextManager[Iterable[T]]:
    """Iterate *items*, with a progress bar on stderr when there are more than a few."""
    if len(items) <= PROGRESS_THRESHOLD:
        return contextlib.nullcontext(items)
    return click.progressbar(items, label=label, file=sys.stderr, show_pos=True)


def collect_pages(
    fetch: Callable[[int, str | None], PagedList[T]], limit: int | None, label: str
) -> list[T]:
    """Every result of a paged search, up to *limit*; a progress bar after the first page.

    *fetch(page_size, page_token)* returns one page.
    """

    def size(collected: int) -> int:
        return PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - collected)

    first = fetch(size(0), None)
    items = list(first)
    token = first.token
    if token is None or (limit is not None and len(items) >= limit):
        return items

    def pages() -> Iterator[int]:
        nonlocal token
        while token is not None and (limit is None or len(items) < limit):
            page = fetch(size(len(items)), token)
            items.extend(page)
            token = page.token
            yield len(items)

    expected = None if limit is None else -(-(limit - len(items)) // PAGE_SIZE)
    with click.progressbar(
        pages(),
        length=expected,
        label=label,
        file=sys.stderr,
        item_show_func=lambda n: None if n is None else f"{n} fetched",
    ) as bar:
        for _ in bar:
            pass
    return items
