"""The merchant's app inside the platform's admin (Shopify): every request carries a session token.

``GET /embedded/<platform>`` is the app's URL (``application_url``): the admin opens it in an
iframe with launch parameters and a session token; a store seen for the first time is installed
there by token exchange.  Everything else is ``/embedded/<platform>/api/...`` with
``Authorization: Bearer <session token>``, acting only on the token's own store.
"""

from connector.web.embedded.views import bp

__all__ = ["bp"]
