"""The Flask app factory: install, webhooks, dashboard and signed media URLs as blueprints."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from connector import metrics
from connector.errors import ConnectorError
from connector.logs import configure_logging
from connector.safety import refuse_unsafe_start, web_secret_key
from connector.services import Services, get_services
from connector.web.redaction import install_redaction

log = logging.getLogger(__name__)


def create_app(services: Services | None = None) -> Flask:
    """Build the web app on the given services (default: from the environment).

    Production refuses to start without its secrets and a guarded dashboard (connector/safety.py).
    """
    services = services or get_services()
    settings = services.settings
    refuse_unsafe_start(settings)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = web_secret_key(settings)
    app.config["SERVICES"] = services
    app.config["MAX_CONTENT_LENGTH"] = 5 * 1024 * 1024
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = settings.public_url.startswith("https://")
    if settings.trusted_proxy_hops > 0:  # the client's address and scheme as the trusted proxies saw them
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    configure_logging(services.settings)
    services.load_platforms()  # the adapters' imports belong to the worker's boot, not to a webhook
    metrics.use_directory(services.settings.metrics_dir)
    install_redaction()  # credentials some platforms put in redirect URLs never reach the access log

    from connector.web.dashboard import bp as dashboard_bp
    from connector.web.embedded_app import bp as embedded_bp
    from connector.web.install import bp as install_bp
    from connector.web.media import bp as media_bp
    from connector.web.monitoring import bp as monitoring_bp
    from connector.web.ops import bp as ops_bp
    from connector.web.webhooks import bp as webhooks_bp

    app.register_blueprint(webhooks_bp)
    app.register_blueprint(install_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(embedded_bp)
    app.register_blueprint(monitoring_bp)
    app.register_blueprint(ops_bp)  # /healthz, /readyz, /metrics

    @app.errorhandler(ConnectorError)
    def connector_error(exc: ConnectorError):
        status = 400 if exc.code not in {"auth", "webhook_rejected"} else 401
        return jsonify(error=exc.message, code=exc.code, hint=exc.hint), status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        """Bad input reads as 400 with a message; anything else is a 500 that shows no traceback."""
        if isinstance(exc, HTTPException):
            return exc
        if isinstance(exc, ValueError | UnicodeError):
            hint = "check the request's parameters"
            return jsonify(error="the request is malformed", code="bad_request", hint=hint), 400
        log.exception("unexpected error")
        return jsonify(error="internal error", code="internal", hint="see the service's log"), 500

    return app
