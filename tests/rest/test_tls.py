"""https tracking URIs: certificates verified by default, a CA bundle, or verification off.

A throw-away CA and a server certificate for 127.0.0.1 are made with ``cryptography`` (a
dependency of the test-only ``mlflow``); uvicorn serves a tracking server over TLS with them.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.rest._clock import VirtualClock

from mltrail._exceptions import MltrailError
from mltrail.store.rest import HttpConfig, RestBackend


def _write_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key) as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mltrail test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "server.pem", folder / "key.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path, serve: Callable[..., Any]) -> tuple[str, Path]:
    """(https URL of a tracking server, the CA certificate that signed its certificate)."""
    from mltrail.server import ServerSettings, create_app

    ca, cert, key = _write_certificates(tmp_path)
    settings = ServerSettings(backend_store_uri=f"sqlite:///{tmp_path / 'tls.db'}")
    server = serve(create_app(settings), ssl_certfile=str(cert), ssl_keyfile=str(key))
    return server.url, ca


def test_an_unknown_certificate_is_refused_at_once(
    tls_server: tuple[str, Path], clock: VirtualClock
) -> None:
    url, _ = tls_server
    store = RestBackend(url, config=HttpConfig(max_retries=5, backoff_factor_s=1))
    try:
        with pytest.raises(MltrailError, match=r"CERTIFICATE_VERIFY_FAILED.*SERVER_CERT_PATH"):
            store.experiments.get_experiment("0")
    finally:
        store.close()
    assert clock.sleeps == []  # not retried: it would fail the same way


def test_the_ca_bundle_from_the_environment_verifies_the_server(
    tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca = tls_server
    monkeypatch.setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", str(ca))
    store = RestBackend(url)
    try:
        assert store.experiments.get_experiment("0").name == "Default"
    finally:
        store.close()


def test_verification_can_be_turned_off(
    tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = tls_server
    monkeypatch.setenv("MLTRAIL_TRACKING_INSECURE_TLS", "true")
    store = RestBackend(url)
    try:
        assert store.experiments.get_experiment("0").name == "Default"
    finally:
        store.close()


def test_a_missing_ca_bundle_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltrail._exceptions import InvalidArgument

    monkeypatch.setenv("MLTRAIL_TRACKING_SERVER_CERT_PATH", str(tmp_path / "missing.pem"))
    with pytest.raises(InvalidArgument, match=r"TRACKING_SERVER_CERT_PATH .*missing\.pem"):
        RestBackend("https://127.0.0.1:1")
