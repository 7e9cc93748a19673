"""Transport security: server TLS from a certificate and key, and mutual TLS (client
certificates checked against a CA) when a client CA is configured too."""

from __future__ import annotations

from pathlib import Path

import grpc

from repositories.config import ConfigError

from .settings import ServiceSettings


def _read_pem(variable: str, path: Path) -> bytes:
    """The file's bytes, or a ConfigError naming the variable (never the contents)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{variable}: cannot read {path} ({error.strerror})") from None
    if b"-----BEGIN " not in data:
        raise ConfigError(f"{variable}: {path} is not a PEM file")
    return data


def server_credentials(settings: ServiceSettings) -> grpc.ServerCredentials | None:
    """TLS credentials for the listening port, or None for plaintext.

    GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE go together; GRPC_TLS_CLIENT_CA_FILE
    additionally requires every client to present a certificate signed by that CA."""
    cert, key, client_ca = (
        settings.grpc_tls_cert_file,
        settings.grpc_tls_key_file,
        settings.grpc_tls_client_ca_file,
    )
    if cert is None and key is None:
        if client_ca is not None:
            raise ConfigError(
                "GRPC_TLS_CLIENT_CA_FILE: needs GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE"
            )
        return None
    if cert is None:
        raise ConfigError("GRPC_TLS_CERT_FILE: must be set with GRPC_TLS_KEY_FILE")
    if key is None:
        raise ConfigError("GRPC_TLS_KEY_FILE: must be set with GRPC_TLS_CERT_FILE")
    chain = _read_pem("GRPC_TLS_CERT_FILE", cert)
    pair = (_read_pem("GRPC_TLS_KEY_FILE", key), chain)
    if client_ca is None:
        return grpc.ssl_server_credentials([pair])
    return grpc.ssl_server_credentials(
        [pair],
        root_certificates=_read_pem("GRPC_TLS_CLIENT_CA_FILE", client_ca),
        require_client_auth=True,
    )


def mutual_tls(settings: ServiceSettings) -> bool:
    """Whether every caller is identified by a verified client certificate."""
    return settings.grpc_tls_client_ca_file is not None
