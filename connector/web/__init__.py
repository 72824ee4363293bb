"""The Flask app factory: install, webhooks, dashboard and signed media URLs as blueprints."""

from __future__ import annotations

from flask import Flask, jsonify

from connector import metrics
from connector.errors import ConnectorError
from connector.logs import configure_logging
from connector.services import Services, get_services


def create_app(services: Services | None = None) -> Flask:
    """Build the web app on the given services (default: from the environment)."""
    services = services or get_services()
    app = Flask(__name__)
    app.config["SECRET_KEY"] = services.settings.secret_key or "dev-only-not-secret"
    app.config["SERVICES"] = services
    app.config["MAX_CONTENT_LENGTH"] = 5 * 1024 * 1024
    configure_logging(services.settings)
    metrics.use_directory(services.settings.metrics_dir)

    from connector.web.dashboard import bp as dashboard_bp
    from connector.web.install import bp as install_bp
    from connector.web.media import bp as media_bp
    from connector.web.monitoring import bp as monitoring_bp
    from connector.web.ops import bp as ops_bp
    from connector.web.webhooks import bp as webhooks_bp

    app.register_blueprint(webhooks_bp)
    app.register_blueprint(install_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(monitoring_bp)
    app.register_blueprint(ops_bp)  # /healthz, /readyz, /metrics

    @app.errorhandler(ConnectorError)
    def connector_error(exc: ConnectorError):
        status = 400 if exc.code not in {"auth", "webhook_rejected"} else 401
        return jsonify(error=exc.message, code=exc.code, hint=exc.hint), status

    return app
