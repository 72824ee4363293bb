"""What the parts of :class:`~adapters.shopify.client.ShopifyClient` share: its state (set by its
``__init__``) and downloads, which the media library and the bulk export both make."""

from __future__ import annotations

from typing import IO

import requests

from adapters.http_retry import RetryPolicy
from adapters.shopify.config import ShopifyConfig
from adapters.shopify.graphql import AdminGraphQL
from adapters.shopify.http import Runtime, send, transport_error
from connector.errors import PlatformError


class ClientState:
    """The shop, its configuration, HTTP session, retry policy and GraphQL endpoint."""

    config: ShopifyConfig
    shop: str
    runtime: Runtime
    session: requests.Session
    retry: RetryPolicy
    graphql: AdminGraphQL

    def _download(self, url: str, sink: IO[bytes], what: str, limit: int | None) -> None:
        """Stream ``url`` into ``sink`` (retried from the start), refusing more than ``limit`` bytes."""

        def attempt() -> None:
            sink.seek(0)
            sink.truncate()
            response = send(self.session, "GET", url, what, self.config.timeout, stream=True)
            size = 0
            try:
                for chunk in response.iter_content(chunk_size=256 * 1024):
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise PlatformError(
                            f"{what}: larger than {limit} bytes",
                            hint="raise max_download_bytes or shrink the image",
                        )
                    sink.write(chunk)
            except requests.RequestException as exc:
                raise transport_error(exc, what) from exc
            finally:
                response.close()

        self.retry.run(attempt)
