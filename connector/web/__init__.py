"""The Flask app factory: install, webhooks, dashboard and signed media URLs as blueprints."""

from __future__ import annotations

import logging

from flask import Flask, jsonify

from connector.errors import ConnectorError
from connector.services import Services, get_services
from connector.web.redaction import install_redaction


def create_app(services: Services | None = None) -> Flask:
    """Build the web app on the given services (default: from the environment)."""
    services = services or get_services()
    app = Flask(__name__)
    app.config["SECRET_KEY"] = services.settings.secret_key or "dev-only-not-secret"
    app.config["SERVICES"] = services
    app.config["MAX_CONTENT_LENGTH"] = 5 * 1024 * 1024
    logging.basicConfig(level=services.settings.log_level)
    install_redaction()  # credentials some platforms put in redirect URLs never reach the access log

    from connector.web.dashboard import bp as dashboard_bp
    from connector.web.install import bp as install_bp
    from connector.web.media import bp as media_bp
    from connector.web.webhooks import bp as webhooks_bp

    app.register_blueprint(webhooks_bp)
    app.register_blueprint(install_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(dashboard_bp)

    @app.get("/healthz")
    def healthz():
        services.redis.ping()
        return jsonify(ok=True)

    @app.errorhandler(ConnectorError)
    def connector_error(exc: ConnectorError):
        status = 400 if exc.code not in {"auth", "webhook_rejected"} else 401
        return jsonify(error=exc.message, code=exc.code, hint=exc.hint), status

    return app
