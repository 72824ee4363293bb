"""Shopify global ids (``gid://shopify/Type/123``)."""

from __future__ import annotations


def gid_type(gid: str) -> str:
    """The resource type of a global id (``Product``, ``MediaImage`` …), or '' for anything else."""
    parts = gid.split("/")
    return parts[3] if gid.startswith("gid://shopify/") and len(parts) >= 5 else ""


def product_gid(product_id: int | str) -> str:
    """A product's global id from its numeric id (or the global id itself)."""
    text = str(product_id)
    return text if text.startswith("gid://") else f"gid://shopify/Product/{text}"
