"""The access rule of every route the app serves, keyed by (path pattern, method).

Endpoints carry their rule (:attr:`Endpoint.access`); a route mounted beside them (``/health``,
the OpenAPI document, the UI) is declared as a :class:`PlainRoute`, the route with its rule.
:func:`access_table` gathers both into the table ``create_app`` keeps as ``app.state.access``,
and :func:`unruled` lists the routes of a route table that the table has no rule for (the app
refuses to start with any).  A route's keys are its full path pattern (mount prefixes included,
``/api/2.0/mlflow/runs/get``) and each method it answers; a mounted application (static files)
answers every method, keyed ``*``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from starlette.routing import BaseRoute, Mount, Route, Router

from mltrail.server._access import Access
from mltrail.server._routing import Endpoint

__all__ = ["ANY_METHOD", "PlainRoute", "RouteKey", "access_table", "route_keys", "unruled"]

#: The method key of a mounted application, which answers every method.
ANY_METHOD = "*"
RouteKey = tuple[str, str]


@dataclass(frozen=True)
class PlainRoute:
    """A route mounted outside the endpoint declarations, with its access rule."""

    route: BaseRoute
    access: Access


def route_keys(route: BaseRoute, prefix: str = "") -> Iterator[RouteKey]:
    """The (path pattern, method) keys of *route*, inside the mounts of routes it has."""
    if isinstance(route, Mount):
        if isinstance(route.app, Router):
            for child in route.routes:
                yield from route_keys(child, prefix + route.path)
        else:
            yield (prefix + route.path, ANY_METHOD)
    elif isinstance(route, Route):
        for method in sorted(route.methods or (ANY_METHOD,)):
            yield (prefix + route.path, method)
    else:  # a WebSocket route or a Host: the table must name it like any other
        yield (prefix + str(getattr(route, "path", route)), ANY_METHOD)


def _methods(endpoint: Endpoint) -> tuple[str, ...]:
    # Starlette answers HEAD wherever it answers GET.
    return (endpoint.method, "HEAD") if endpoint.method == "GET" else (endpoint.method,)


def access_table(
    mounts: Sequence[tuple[str, str, Sequence[Endpoint]]],
    plain: Sequence[PlainRoute],
) -> dict[RouteKey, Access]:
    """The rule of every route: the endpoints of each ``(prefix, api version, endpoints)``
    mount, then the plain routes."""
    table: dict[RouteKey, Access] = {}
    for prefix, version, endpoints in mounts:
        for endpoint in endpoints:
            if version in endpoint.versions:
                for method in _methods(endpoint):
                    table[(prefix + endpoint.path, method)] = endpoint.access
    for declared in plain:
        for key in route_keys(declared.route):
            table[key] = declared.access
    return table


def unruled(routes: Sequence[BaseRoute], table: dict[RouteKey, Access]) -> list[str]:
    """``"METHOD path"`` of every route of *routes* that *table* has no rule for."""
    return [
        f"{method} {path}"
        for route in routes
        for path, method in route_keys(route)
        if (path, method) not in table
    ]
