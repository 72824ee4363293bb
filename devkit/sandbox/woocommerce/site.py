"""One emulated WordPress + WooCommerce site: its state and the operations WordPress performs on it.

All state sits behind ``Site.lock``.  Remote fetches (sideloading ``{src}``) happen outside the
lock, so a store may sideload from its own URLs without deadlocking.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sandbox.seeds.catalog import SeedImage, SeedProduct
from sandbox.seeds.photos import MIME_TYPES
from sandbox.woocommerce.config import WooSandboxConfig
from sandbox.woocommerce.errors import WPError, invalid_id
from sandbox.woocommerce.media import (
    IMAGE_EXTENSIONS,
    DownloadFailed,
    UploadRejected,
    check_filetype,
    derive_full_size,
    download,
    extension_of,
    image_size,
    sanitize_file_name,
    unique_filename,
)
from sandbox.woocommerce.models import (
    ApiKey,
    AppPassword,
    Attachment,
    Product,
    User,
    Variation,
    Webhook,
    now_utc,
)

#: called as notify(site, resource, event, resource_id) after every save WooCommerce hooks webhooks on
Notifier = Callable[["Site", str, str, int], None]
T = TypeVar("T")


@dataclass(frozen=True)
class NewFile:
    """Bytes about to become an attachment."""

    filename: str
    data: bytes
    mime: str


class Site:
    """A store at ``home_url`` (WordPress installed in the subdirectory ``/<name>``)."""

    def __init__(
        self, name: str, home_url: str, config: WooSandboxConfig, notify: Notifier | None = None
    ) -> None:
        self.name = name
        self.home_url = home_url.rstrip("/")
        self.config = config
        self.notify = notify
        self.lock = threading.RLock()
        self._post_ids = itertools.count(10)  # wp_posts ids are shared by products, variations, attachments
        self._webhook_ids = itertools.count(1)
        self._key_ids = itertools.count(1)
        self.users: dict[int, User] = {1: User(1, config.admin_user, config.admin_email)}
        self.products: dict[int, Product] = {}
        self.variations: dict[int, Variation] = {}
        self.attachments: dict[int, Attachment] = {}
        self.files: dict[str, tuple[int, str]] = {}  # upload path -> (attachment id, "full" | "original")
        self._names: dict[str, set[str]] = {}
        self._slugs: set[str] = set()  # "YYYY/MM" -> lower-case file names taken there
        self.uploads: list[dict[str, Any]] = []
        self.webhooks: dict[int, Webhook] = {}
        self.keys: dict[str, ApiKey] = {}
        self.app_passwords: list[AppPassword] = []
        self.pings: list[dict[str, Any]] = []
        self.grants: list[dict[str, Any]] = []
        self.grant_nonces: set[str] = set()
        self.admin_nonces: set[str] = set()  # wp_create_nonce() values handed out in wp-admin forms
        self.salt = secrets.token_hex(16)

    # ------------------------------------------------------------------------------- time and ids

    def local(self, dt: datetime) -> datetime:
        """``dt`` as the site's local wall-clock time (naive), like ``post_modified``."""
        return dt.astimezone(self.config.tz).replace(tzinfo=None)

    def existing(self, rows: Mapping[int, T], row_id: int, post_type: str) -> T:
        """``rows[row_id]`` from one of this site's tables, read under the lock; a 404 when missing."""
        with self.lock:
            row = rows.get(row_id)
        if row is None:
            raise invalid_id(post_type)
        return row

    def next_post_id(self) -> int:
        """A new id in the shared ``wp_posts`` id space."""
        return next(self._post_ids)

    @property
    def uploads_url(self) -> str:
        """Base URL of ``wp-content/uploads``."""
        return f"{self.home_url}/wp-content/uploads"

    @property
    def host_port(self) -> tuple[str, int | None]:
        """Host and port of the site URL."""
        parts = urlsplit(self.home_url)
        return parts.hostname or "", parts.port

    # ------------------------------------------------------------------------------- users and keys

    def user_by_login(self, login: str) -> User | None:
        """Find a user by login or email, as ``wp_authenticate_application_password`` does."""
        return next((u for u in self.users.values() if login in (u.login, u.email)), None)

    def create_key(self, user_id: int, description: str, permissions: str) -> ApiKey:
        """A new REST API key (``ck_``/``cs_`` + 40 hex characters)."""
        with self.lock:
            key = ApiKey(
                key_id=next(self._key_ids),
                user_id=user_id,
                description=description,
                permissions=permissions,
                consumer_key="ck_" + secrets.token_hex(20),
                consumer_secret="cs_" + secrets.token_hex(20),
            )
            self.keys[key.consumer_key] = key
            return key

    def revoke_key(self, key_id: int) -> None:
        """Delete an API key."""
        with self.lock:
            for ck, key in list(self.keys.items()):
                if key.key_id == key_id:
                    del self.keys[ck]

    def app_passwords_available(self, https: bool) -> bool:
        """``wp_is_application_passwords_available``: over https, or on a site marked local."""
        return https or self.config.environment_type == "local"

    def add_app_password(self, user_id: int, name: str, app_id: str = "") -> str:
        """``WP_Application_Passwords::create_new_application_password``: the new password (24 characters).

        WordPress 5.7 to 6.6 refuse a name the user already has (409), so an application asking
        again must vary its name.
        """
        name = " ".join(name.split())
        if not name:
            raise WPError(
                "application_password_empty_name",
                "An application name is required to create an application password.",
                400,
            )
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        raw = "".join(secrets.choice(alphabet) for _ in range(24))
        with self.lock:
            if any(p.user_id == user_id and p.name == name for p in self.app_passwords):
                raise WPError(
                    "application_password_duplicate_name", "Each application name should be unique.", 409
                )
            self.app_passwords.append(AppPassword(str(uuid.uuid4()), user_id, name, raw, app_id))
        return raw

    def create_app_password(self, user_id: int, name: str) -> str:
        """A new Application Password as the profile screen shows it once (groups of four)."""
        raw = self.add_app_password(user_id, name)
        return " ".join(raw[i : i + 4] for i in range(0, 24, 4))

    # ------------------------------------------------------------------------------- attachments

    def attachment_url(self, att: Attachment) -> str:
        """``wp_get_attachment_url``: the served (possibly -scaled) file."""
        return f"{self.uploads_url}/{att.file}"

    def original_url(self, att: Attachment) -> str:
        """``wp_get_original_image_url``: the file as uploaded."""
        return f"{self.uploads_url}/{att.original_file or att.file}"

    def is_image(self, attachment_id: int) -> bool:
        """``wp_attachment_is_image``."""
        att = self.attachments.get(attachment_id)
        return bool(att and att.mime.startswith("image/") and extension_of(att.file) in IMAGE_EXTENSIONS)

    def file_bytes(self, path: str) -> tuple[bytes, str] | None:
        """Bytes and mime of an upload path, None when no such file (seeded photos render unlocked)."""
        with self.lock:
            ref = self.files.get(path)
            att = self.attachments.get(ref[0]) if ref else None
        if ref is None or att is None:
            return None
        if ref[1] == "original" and att.original_data is not None:
            return att.original_data, att.mime
        return att.bytes(), att.mime

    def _month_dir(self, when: datetime) -> str:
        local = self.local(when)
        return f"{local.year:04d}/{local.month:02d}"

    def _taken(self, month: str) -> set[str]:
        return self._names.setdefault(month, set())

    def _add_file(self, path: str, attachment_id: int, role: str) -> None:
        self.files[path] = (attachment_id, role)
        month, _, name = path.rpartition("/")
        self._taken(month).add(name.lower())

    def add_attachment(
        self,
        new: NewFile,
        *,
        parent: int,
        via: str,
        title: str | None = None,
        alt: str = "",
        caption: str = "",
        when: datetime | None = None,
    ) -> Attachment:
        """Store an uploaded file as an attachment (unique name, big-image scaling, EXIF rotation)."""
        created = when or now_utc()
        derived = derive_full_size(
            new.data, new.mime, self.config.big_image_threshold, self.config.jpeg_quality
        )
        with self.lock:
            month = self._month_dir(created)
            name = unique_filename(sanitize_file_name(new.filename), self._taken(month))
            path = f"{month}/{name}"
            att = Attachment(
                id=self.next_post_id(),
                file=path,
                mime=new.mime,
                title=title if title is not None else name.rsplit(".", 1)[0],
                parent=parent,
                via=via,
                created=created,
                modified=created,
                alt=alt,
                caption=caption,
                data=new.data,
            )
            size = image_size(new.data)
            if size:
                att.width, att.height = size
            if derived is not None:
                stem, _, ext = name.rpartition(".")
                att.original_file, att.original_data = path, new.data
                att.file = f"{month}/{stem}-{derived.suffix}.{ext}"
                att.data, att.width, att.height = derived.data, derived.width, derived.height
                self._add_file(att.original_file, att.id, "original")
            self._add_file(att.file, att.id, "full")
            self.attachments[att.id] = att
            return att

    def add_seed_attachment(self, image: SeedImage, parent: int, when: datetime) -> Attachment:
        """A catalog photo imported into the library; its pixels are drawn when first needed."""
        with self.lock:
            month = self._month_dir(when)
            name = unique_filename(sanitize_file_name(image.filename), self._taken(month))
            ext = extension_of(name)
            att = Attachment(
                id=self.next_post_id(),
                file=f"{month}/{name}",
                mime=MIME_TYPES.get(ext, "image/jpeg"),
                title=name.rsplit(".", 1)[0],
                parent=parent,
                via="seed",
                created=when,
                modified=when,
                alt=image.alt,
                seed=image,
            )
            self._add_file(att.file, att.id, "full")
            self.attachments[att.id] = att
            return att

    def delete_attachment(self, attachment_id: int) -> bool:
        """Delete an attachment and its files for good (products keep the dangling id, like WordPress)."""
        with self.lock:
            att = self.attachments.pop(attachment_id, None)
            if att is None:
                return False
            for path in (att.file, att.original_file):
                if path:
                    self.files.pop(path, None)
                    month, _, name = path.rpartition("/")
                    self._taken(month).discard(name.lower())
            return True

    def record_upload(self, via: str, filename: str, data: bytes | None, **extra: Any) -> None:
        """Remember an upload attempt (admin inspection: every upload ever made)."""
        entry = {
            "via": via,
            "filename": filename,
            "sha256": hashlib.sha256(data).hexdigest() if data is not None else None,
            "size": len(data) if data is not None else None,
            "at": now_utc().isoformat(),
            **extra,
        }
        with self.lock:
            self.uploads.append(entry)

    def sideload(self, src: str, parent: int, error_code: str) -> Attachment:
        """``wc_rest_upload_image_from_url`` + ``wc_rest_set_uploaded_image_as_attachment``.

        Runs the download without the lock.  Raises WPError(``error_code``, 400) with WordPress's
        message when the URL is refused or unreachable or the file is not an allowed image.
        """
        name = src.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        try:
            data = download(src, self.home_url, self.config.allow_private_src, self.config.sideload_timeout)
        except DownloadFailed as exc:
            self.record_upload("sideload", name, None, src=src, error=str(exc))
            raise WPError(error_code, f"Error getting remote image {src}. Error: {exc}", 400) from None
        try:
            filename, mime = check_filetype(name, data)
        except UploadRejected as exc:
            self.record_upload("sideload", name, data, src=src, error=str(exc))
            raise WPError(error_code, f"Invalid image: {exc}", 400) from None
        att = self.add_attachment(NewFile(filename, data, mime), parent=parent, via="sideload", title=None)
        with self.lock:
            att.title = (att.original_file or att.file).rsplit("/", 1)[
                -1
            ]  # WooCommerce titles with the file name
        self.record_upload("sideload", filename, data, src=src, attachment_id=att.id)
        return att

    def resolve_image(self, image: dict[str, Any], parent: int, upload_code: str, invalid_code: str) -> int:
        """One ``{id}`` / ``{src}`` entry of an images list → attachment id (sideloading ``src``)."""
        attachment_id = _absint(image.get("id"))
        if attachment_id == 0 and image.get("src"):
            attachment_id = self.sideload(str(image["src"]), parent, upload_code).id
        with self.lock:
            if not self.is_image(attachment_id):
                raise WPError(invalid_code, f"#{attachment_id} is an invalid image ID.", 400)
            att = self.attachments[attachment_id]
            if image.get("alt"):
                att.alt = str(image["alt"])
            if image.get("name"):
                att.title = str(image["name"])
        return attachment_id

    # ------------------------------------------------------------------------------- products

    def product_images(self, product: Product) -> list[Attachment]:
        """What ``images`` shows: featured then gallery, skipping deleted attachments."""
        return [self.attachments[i] for i in product.image_ids() if i in self.attachments]

    def set_product_images(self, product_id: int, images: list[dict[str, Any]]) -> tuple[int, list[int]]:
        """WooCommerce's ``set_product_images``: the (featured id, gallery ids) the list resolves to.

        Raises before anything is applied to the product; ``{src}`` entries sideloaded before the
        failing entry stay in the media library, as on WordPress.
        """
        ids = [
            self.resolve_image(
                img,
                product_id,
                "woocommerce_product_image_upload_error",
                "woocommerce_product_invalid_image_id",
            )
            for img in images
            if img
        ]
        if not ids:
            return 0, []
        gallery = list(dict.fromkeys(ids[1:]))  # wp_parse_id_list drops repeats
        return ids[0], gallery

    def save_product(self, product: Product, created: bool = False) -> None:
        """Persist a product save: bumps ``date_modified`` and fires the webhook hooks."""
        with self.lock:
            product.modified = now_utc()
            self.products[product.id] = product
        self._fire("product", "created" if created else "updated", product.id)

    def save_variation(self, variation: Variation, created: bool = False) -> None:
        """Persist a variation save (``woocommerce_update_product_variation`` → product.updated)."""
        with self.lock:
            variation.modified = now_utc()
            self.variations[variation.id] = variation
            parent = self.products[variation.parent_id]
            if variation.id not in parent.variation_ids:
                parent.variation_ids.append(variation.id)
        self._fire("product", "created" if created else "updated", variation.id)

    def trash_product(self, product: Product) -> None:
        """Move to the trash (``wp_trash_post`` → product.deleted)."""
        with self.lock:
            product.status = "trash"
            product.modified = now_utc()
        self._fire("product", "deleted", product.id)

    def delete_product(self, product: Product) -> None:
        """Delete for good, with its variations (attachments stay in the library)."""
        with self.lock:
            for vid in product.variation_ids:
                self.variations.pop(vid, None)
            self.products.pop(product.id, None)
        self._fire("product", "deleted", product.id)

    def delete_variation(self, variation: Variation) -> None:
        """Delete a variation for good."""
        with self.lock:
            self.variations.pop(variation.id, None)
            parent = self.products.get(variation.parent_id)
            if parent and variation.id in parent.variation_ids:
                parent.variation_ids.remove(variation.id)
        self._fire("product", "deleted", variation.id)

    def sku_taken(self, sku: str, except_id: int) -> bool:
        """Whether another product or variation uses ``sku``."""
        if not sku:
            return False
        rows: Iterable[Product | Variation] = itertools.chain(
            self.products.values(), self.variations.values()
        )
        return any(r.sku == sku and r.id != except_id for r in rows)

    def unique_slug(self, name: str, except_id: int = 0) -> str:
        """``wp_unique_post_slug`` for products (call under the lock; the slug is then reserved)."""
        base = "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split()) or "product"
        own = self.products[except_id].slug if except_id in self.products else None
        slug, n = base, 2
        while slug in self._slugs and slug != own:
            slug, n = f"{base}-{n}", n + 1
        self._slugs.add(slug)
        return slug

    def _fire(self, resource: str, event: str, resource_id: int) -> None:
        if self.notify is not None:
            self.notify(self, resource, event, resource_id)

    # ------------------------------------------------------------------------------- webhooks

    def add_webhook(self, name: str, topic: str, delivery_url: str, secret: str, status: str) -> Webhook:
        """A new webhook row."""
        with self.lock:
            now = now_utc()
            hook = Webhook(next(self._webhook_ids), name, status, topic, delivery_url, secret, now, now)
            self.webhooks[hook.id] = hook
            return hook

    # ------------------------------------------------------------------------------- seeding

    def seed(self, catalog: Iterable[SeedProduct]) -> None:
        """Import a catalog: products, their photos (drawn lazily) and variations, without webhooks."""
        start = now_utc() - timedelta(days=30)
        with self.lock:
            for n, seed in enumerate(catalog):
                when = start + timedelta(minutes=n)
                pid = self.next_post_id()
                atts = [self.add_seed_attachment(img, pid, when) for img in seed.images]
                product = Product(
                    id=pid,
                    name=seed.title,
                    slug=self.unique_slug(seed.handle),
                    type="variable" if seed.variants else "simple",
                    created=when,
                    modified=when,
                    sku="" if seed.variants else seed.key.upper(),
                    regular_price="" if seed.variants else f"{10 + n % 90}.00",
                    image_id=atts[0].id if atts else 0,
                    gallery=[a.id for a in atts[1:]],
                )
                if seed.variants:
                    product.attributes = [
                        {
                            "id": 0,
                            "name": "Option",
                            "position": 0,
                            "visible": True,
                            "variation": True,
                            "options": [v.title for v in seed.variants],
                        }
                    ]
                self.products[pid] = product
                for j, sv in enumerate(seed.variants):
                    image = atts[sv.image_index].id if sv.image_index is not None and atts else 0
                    variation = Variation(
                        id=self.next_post_id(),
                        parent_id=pid,
                        created=when,
                        modified=when,
                        sku=sv.sku,
                        image_id=image,
                        attributes=[{"id": 0, "name": "Option", "option": sv.title}],
                        regular_price=f"{10 + n % 90}.00",
                        menu_order=j,
                    )
                    self.variations[variation.id] = variation
                    product.variation_ids.append(variation.id)


def _absint(value: Any) -> int:
    try:
        return abs(int(value))
    except (TypeError, ValueError):
        return 0


def gmt(dt: datetime) -> datetime:
    """``dt`` as naive UTC."""
    return dt.astimezone(UTC).replace(tzinfo=None)
