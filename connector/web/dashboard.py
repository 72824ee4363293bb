"""The operator dashboard: stores, review queue, failures with reasons, history, and actions."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections import Counter
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import func, select

from connector import actions
from connector.models import Image, ImageVersion, Operation, Product, Run, Store, VersionKind
from connector.qa_learning import qa_history
from connector.runs import run_summary
from connector.web.context import services
from connector.web.media import signed_media_path

bp = Blueprint("dashboard", __name__, template_folder="templates")
PAGE = 48


#: Headers a reverse proxy adds; without TRUSTED_PROXY_HOPS they mean the TCP peer is not the client.
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host")


def _local_client() -> bool:
    """Whether the client is on this machine: the TCP peer, or (TRUSTED_PROXY_HOPS, via ProxyFix) the
    address the trusted proxies saw.  A forwarded request with no trusted proxies is never local."""
    if services().settings.trusted_proxy_hops == 0 and any(h in request.headers for h in FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.before_request
def guard() -> Response | None:
    """Basic auth when DASHBOARD_PASSWORD is set, else loopback only; CSRF token on every POST."""
    password = services().settings.dashboard_password
    if password:
        auth = request.authorization
        if not auth or not hmac.compare_digest((auth.password or "").encode(), password.encode()):
            return Response("login required", 401, {"WWW-Authenticate": 'Basic realm="connector"'})
    elif not _local_client():
        abort(
            403,
            "set DASHBOARD_PASSWORD to open the dashboard beyond this machine (behind a reverse proxy, "
            "also TRUSTED_PROXY_HOPS)",
        )
    session.setdefault("csrf", secrets.token_urlsafe(16))
    if request.method == "POST" and not hmac.compare_digest(request.form.get("csrf", ""), session["csrf"]):
        abort(400, "stale form: reload the page and try again")
    return None


def _media(digest: str | None) -> str | None:
    return signed_media_path(current_app.config["SECRET_KEY"], digest) if digest else None


@bp.app_template_global()
def media_url(digest: str | None) -> str | None:
    """Signed URL of a blob, for <img> tags."""
    return _media(digest)


@bp.get("/")
def index():
    with services().session() as s:
        stores = list(s.scalars(select(Store).order_by(Store.id)))
        counts = {
            store.id: dict(Counter(s.scalars(select(Image.status).where(Image.store_id == store.id))))
            for store in stores
        }
    return render_template("index.html", stores=stores, counts=counts)


@bp.get("/stores/<int:store_id>")
def store(store_id: int):
    status = request.args.get("status")
    page = max(request.args.get("page", 1, type=int), 1)
    with services().session() as s:
        row = s.get(Store, store_id) or abort(404)
        counts = dict(Counter(s.scalars(select(Image.status).where(Image.store_id == store_id))))
        query = select(Image).where(Image.store_id == store_id)
        if status:
            query = query.where(Image.status == status)
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        images = list(
            s.scalars(query.order_by(Image.updated_at.desc(), Image.id).limit(PAGE).offset((page - 1) * PAGE))
        )
        rows = [_image_card(s, image) for image in images]
        runs = list(s.scalars(select(Run).where(Run.store_id == store_id).order_by(Run.id.desc()).limit(10)))
        ops = list(
            s.scalars(
                select(Operation)
                .where(Operation.store_id == store_id)
                .order_by(Operation.id.desc())
                .limit(10)
            )
        )
        qa = qa_history(s, store_id)
    from jobs.imaging.model_tiers import model_info

    return render_template(
        "store.html",
        store=row,
        qa=qa,
        model=model_info(row.model),
        counts=counts,
        rows=rows,
        runs=runs,
        ops=ops,
        status=status,
        page=page,
        pages=max(1, -(-total // PAGE)),
    )


def _image_card(s, image: Image) -> dict:
    original = s.get(ImageVersion, image.original_version_id) if image.original_version_id else None
    result = s.scalar(
        select(ImageVersion)
        .where(ImageVersion.image_id == image.id, ImageVersion.kind == VersionKind.RESULT.value)
        .order_by(ImageVersion.id.desc())
    )
    product = s.get(Product, image.product_id)
    return {"image": image, "original": original, "result": result, "product": product}


@bp.get("/images/<int:image_id>")
def image(image_id: int):
    with services().session() as s:
        row = s.get(Image, image_id) or abort(404)
        card = _image_card(s, row)
        versions = list(row.versions)
        ops = list(s.scalars(select(Operation).where(Operation.image_id == image_id).order_by(Operation.id)))
        steps = {op.id: list(op.steps) for op in ops}
    return render_template("image.html", card=card, versions=versions, ops=ops, steps=steps)


@bp.get("/runs/<int:run_id>")
def run(run_id: int):
    summary = run_summary(services(), run_id) or abort(404)
    with services().session() as s:
        in_run = select(ImageVersion.image_id).where(ImageVersion.run_id == run_id)
        images = list(s.scalars(select(Image).where(Image.id.in_(in_run)).order_by(Image.id)))
        rows = [_image_card(s, image) for image in images]
    return render_template("run.html", summary=summary, rows=rows)


def _back(store_id: int | None = None, image_id: int | None = None):
    """Back to the dashboard page the action came from; a Referer of another site (or none) is
    replaced by the page of what the action was about: redirects stay on the app's own pages."""
    came_from = urlsplit(request.referrer or "")
    if (
        came_from.netloc == request.host
        and came_from.path.startswith("/")
        and not came_from.path.startswith("//")
    ):
        return redirect(came_from.path + (f"?{came_from.query}" if came_from.query else ""))
    if image_id:
        return redirect(url_for("dashboard.image", image_id=image_id))
    return redirect(url_for("dashboard.store", store_id=store_id))


@bp.post("/images/<int:image_id>/approve")
def approve(image_id: int):
    actions.approve(services(), actions.latest_result(services(), image_id).id, actor=_actor())
    flash(f"image {image_id}: approved, publication queued")
    return _back(image_id=image_id)


@bp.post("/images/<int:image_id>/reject")
def reject(image_id: int):
    actions.reject(services(), actions.latest_result(services(), image_id).id, actor=_actor())
    flash(f"image {image_id}: rejected, the original stays")
    return _back(image_id=image_id)


@bp.post("/images/<int:image_id>/rollback")
def rollback_image(image_id: int):
    store_id = _store_of(image_id)
    run_id, n = actions.rollback(services(), store_id=store_id, image_id=image_id, actor=_actor())
    flash(f"image {image_id}: rollback queued (run {run_id}, {n} image)")
    return _back(image_id=image_id)


@bp.post("/images/<int:image_id>/reprocess")
def reprocess(image_id: int):
    store_id = _store_of(image_id)
    actions.reprocess(services(), store_id=store_id, image_id=image_id, actor=_actor())
    flash(f"image {image_id}: reprocessing queued")
    return _back(image_id=image_id)


@bp.post("/stores/<int:store_id>/resync")
def resync(store_id: int):
    limit = request.form.get("limit", type=int)
    run_id = actions.resync(
        services(), store_id, dry_run=bool(request.form.get("dry_run")), limit=limit, actor=_actor()
    )
    flash(f"resync queued as run {run_id}")
    return _back(store_id)


@bp.post("/stores/<int:store_id>/rollback")
def rollback_store(store_id: int):
    run_id, n = actions.rollback(services(), store_id=store_id, actor=_actor(), why="store rollback")
    flash(f"rollback of {n} images queued as run {run_id}")
    return _back(store_id)


def _store_of(image_id: int) -> int:
    """The store an image belongs to (404 when there is no such image)."""
    with services().session() as s:
        return (s.get(Image, image_id) or abort(404)).store_id


def _actor() -> str:
    auth = request.authorization
    return f"dashboard:{auth.username}" if auth and auth.username else "dashboard"
