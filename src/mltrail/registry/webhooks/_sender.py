"""Sending one delivery attempt over HTTP (httpx, imported when first used)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from mltrail._exceptions import MltrailError
from mltrail.registry.webhooks._destinations import DestinationRefused, check_destination
from mltrail.registry.webhooks._signing import (
    DELIVERY_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign_payload,
)

__all__ = ["AttemptResult", "send_delivery"]

_MAX_BODY = 1000


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """The outcome of one attempt: a 2xx status is a success."""

    status_code: int | None
    body: str | None
    error: str | None
    retryable: bool = True

    @property
    def success(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def send_delivery(
    *,
    url: str,
    delivery_id: str,
    payload: str,
    secret: str | None,
    allow_private: bool,
    timeout: float,
) -> AttemptResult:
    """POST *payload* to *url*, signed when there is a secret; never raises for network errors.

    Redirects are not followed (a redirect could lead to a refused destination).
    """
    try:
        dest = check_destination(url, allow_private=allow_private)
    except DestinationRefused as exc:
        return AttemptResult(None, None, exc.message, retryable=False)
    except MltrailError as exc:
        return AttemptResult(None, None, exc.message)
    import httpx

    timestamp = str(int(time.time()))
    pinned = dest.pinned()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "mltrail-webhooks",
        "Host": pinned.host_header,
        DELIVERY_ID_HEADER: delivery_id,
        TIMESTAMP_HEADER: timestamp,
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign_payload(secret, delivery_id, timestamp, payload)
    extensions: dict[str, Any] = {"sni_hostname": pinned.sni_hostname}
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            response = client.post(
                pinned.url,
                content=payload.encode(),
                headers=headers,
                extensions=extensions,
            )
    except httpx.HTTPError as exc:
        return AttemptResult(None, None, f"{type(exc).__name__}: {exc}"[:_MAX_BODY])
    body = response.text[:_MAX_BODY]
    code = response.status_code
    error = None if 200 <= code < 300 else f"HTTP {code}"
    retryable = code in (408, 429) or code >= 500
    return AttemptResult(code, body, error, retryable=retryable)
