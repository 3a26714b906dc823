"""The transport of a destination, built from its `options` in config/destinations/<name>.yml.

Secrets never sit in the files: an option ending in `_env` names the environment variable that
holds the value (a signing secret, an API key, object-store credentials).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kizuna.activation.ad_platforms import AdFileTransport, google_encoder, meta_encoder
from kizuna.activation.crm import CrmTransport
from kizuna.activation.destinations import Destination
from kizuna.activation.esp import esp_encoder
from kizuna.activation.files import FileTransport
from kizuna.activation.transport import DestinationError, Transport
from kizuna.activation.webhook import WebhookTransport, generic_body
from kizuna.settings import Settings

PLATFORMS = {"google_customer_match": "google", "meta_custom_audiences": "meta"}


def _option(destination: Destination, key: str, default: Any = None, required: bool = False) -> Any:
    value = destination.options.get(key, default)
    if required and value in (None, ""):
        raise DestinationError(f"destination {destination.name!r}: options.{key} is missing")
    return value


def _secret(destination: Destination, key: str, required: bool = True) -> str | None:
    """The value of the environment variable named by options.<key> (e.g. secret_env)."""
    name = _option(destination, key, required=required)
    if name is None:
        return None
    value = os.environ.get(str(name))
    if required and not value:
        raise DestinationError(f"destination {destination.name!r}: the environment variable {name} "
                               f"(options.{key}) is not set")
    return value


def _url(destination: Destination, settings: Settings) -> str:
    """A relative url is a folder under the exports location (settings paths.exports); an absolute
    path or any fsspec URL is kept."""
    url = str(_option(destination, "url", required=True))
    if "://" in url or Path(url).is_absolute():
        return url
    return f"{settings.exports_dir.rstrip('/')}/{url}"


def _storage_options(destination: Destination, url: str) -> dict | None:
    if not url.startswith("s3://"):
        return None
    endpoint = _secret(destination, "endpoint_url_env", required=False)
    options: dict[str, Any] = {"key": _secret(destination, "key_env", required=False),
                               "secret": _secret(destination, "secret_env", required=False)}
    if endpoint:
        options["client_kwargs"] = {"endpoint_url": endpoint}
    return {k: v for k, v in options.items() if v}


def _http(destination: Destination, url: str, secret: str, encoder, headers: Mapping[str, str] | None = None):
    return WebhookTransport(
        url, secret=secret, rate_limit_per_s=float(_option(destination, "rate_limit_per_s", 10)),
        max_attempts=int(_option(destination, "max_attempts", 5)),
        base_delay_s=float(_option(destination, "base_delay_s", 0.2)),
        max_delay_s=float(_option(destination, "max_delay_s", 10)),
        timeout_s=float(_option(destination, "timeout_s", 10)),
        batch_encoder=encoder, headers=headers)


def transport_for(destination: Destination, settings: Settings, audience: str | None = None) -> Transport:
    """The transport `destination` is configured for; files of one audience go to a folder of their own."""
    kind = destination.kind
    if kind == "file":
        url = _url(destination, settings)
        url = f"{url.rstrip('/')}/{audience}" if audience else url
        fmt = _option(destination, "format", "parquet")
        if fmt not in ("csv", "parquet"):
            raise DestinationError(f"destination {destination.name!r}: options.format {fmt!r} is not csv or parquet")
        return FileTransport(url, fmt, _storage_options(destination, url),
                             columns=list(destination.fields) or None)
    if kind == "crm":
        dsn = _secret(destination, "dsn_env", required=False) or settings.crm_dsn
        return CrmTransport(dsn, schema=str(_option(destination, "schema", settings.crm_schema)),
                            table=str(_option(destination, "table", "kizuna_audience_members")),
                            contacts_table=f"{settings.crm_schema}.{settings.crm_table}")
    if kind == "webhook":
        return _http(destination, str(_option(destination, "url", required=True)),
                     _secret(destination, "secret_env"), generic_body)
    if kind == "esp":
        api_key = _secret(destination, "secret_env")
        encoder = esp_encoder(int(_option(destination, "list_id", required=True)),
                              dict(_option(destination, "attributes", {}) or {}))
        return _http(destination, str(_option(destination, "url", required=True)), api_key, encoder,
                     headers={"api-key": api_key})
    platform = PLATFORMS[kind]
    mode = _option(destination, "mode", "file")
    if mode == "file":
        url = _url(destination, settings)
        url = f"{url.rstrip('/')}/{audience}" if audience else url
        return AdFileTransport(platform, url, _storage_options(destination, url), region=settings.phone_region)
    if mode != "endpoint":
        raise DestinationError(f"destination {destination.name!r}: options.mode {mode!r} is not file or endpoint")
    target = str(_option(destination, "list", required=True))  # Google: the job's resource name; Meta: audience id
    encoder = (google_encoder(target, region=settings.phone_region) if platform == "google"
               else meta_encoder(target, region=settings.phone_region))
    token = _secret(destination, "secret_env")
    return _http(destination, str(_option(destination, "url", required=True)), token, encoder,
                 headers={"Authorization": f"Bearer {token}"})
