"""Signing deliveries: HMAC-SHA256 over the delivery id, the timestamp and the payload.

The headers are MLflow's, so a receiver written for MLflow webhooks verifies mltrail's too::

    X-MLflow-Delivery-Id: <id>          (the same id on every retry of one delivery)
    X-MLflow-Timestamp:   <unix seconds of this attempt>
    X-MLflow-Signature:   v1,<base64 of HMAC-SHA256(secret, "<id>.<timestamp>.<payload>")>
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

__all__ = [
    "DELIVERY_ID_HEADER",
    "SIGNATURE_HEADER",
    "SIGNATURE_VERSION",
    "TIMESTAMP_HEADER",
    "sign_payload",
    "verify_signature",
]

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION = "v1"


def sign_payload(secret: str, delivery_id: str, timestamp: str, payload: str) -> str:
    """The signature header value for one attempt: ``v1,<base64 digest>``."""
    content = f"{delivery_id}.{timestamp}.{payload}".encode()
    digest = hmac.new(secret.encode(), content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def verify_signature(
    secret: str,
    delivery_id: str,
    timestamp: str,
    payload: str,
    signature: str,
    *,
    tolerance_seconds: float | None = 300.0,
    now: float | None = None,
) -> bool:
    """Whether *signature* is valid for this delivery (for receivers).

    With *tolerance_seconds* a timestamp further than that from now is refused, so a captured
    delivery cannot be replayed later.
    """
    if tolerance_seconds is not None:
        try:
            sent = int(timestamp)
        except ValueError:
            return False
        if abs((time.time() if now is None else now) - sent) > tolerance_seconds:
            return False
    expected = sign_payload(secret, delivery_id, timestamp, payload)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())
