"""Every GraphQL document the Shopify adapter sends (Admin API 2025-01), in one place.

Tests validate each of them against the published Admin schema, so a query Shopify would
reject fails here first.  Nothing else in the adapter contains GraphQL text.
"""

from __future__ import annotations

ALL: dict[str, str] = {}


def _doc(name: str, text: str) -> str:
    """Register a document under its name (the operation name) and return it."""
    ALL[name] = text.strip() + "\n"
    return ALL[name]


def _product_connection_page(name: str, connection: str, fragment: str) -> str:
    """Register a query for one page of a product's ``connection``, its nodes read by ``fragment``."""
    template = """
query __NAME__($id: ID!, $first: Int!, $after: String) {
  product(id: $id) {
    __FIELD__(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { ...__FRAGMENT__ } }
  }
}
"""
    fragment_name = fragment.split()[1]
    text = template.replace("__NAME__", name).replace("__FIELD__", connection)
    return _doc(name, text.replace("__FRAGMENT__", fragment_name) + fragment)


def _files_mutation(action: str) -> str:
    """Register ``File<action>``: the files it changed and the errors it reports."""
    return _doc(
        f"File{action}",
        f"""
mutation File{action}($files: [File{action}Input!]!) {{
  file{action}(files: $files) {{
    files {{ id fileStatus alt }}
    userErrors {{ field message code }}
  }}
}}
""",
    )


def _variant_media_mutation(action: str) -> str:
    """Register ``ProductVariant<action>Media``, which links variants to media (or unlinks them)."""
    name = f"ProductVariant{action}Media"
    return _doc(
        name,
        f"""
mutation {name}($productId: ID!, $variantMedia: [{name}Input!]!) {{
  productVariant{action}Media(productId: $productId, variantMedia: $variantMedia) {{
    productVariants {{ id }}
    userErrors {{ field message code }}
  }}
}}
""",
    )


def _webhook_subscription_mutation(action: str, target: str, target_type: str) -> str:
    """Register ``WebhookSubscription<action>``, addressed by ``target`` (``topic`` or ``id``)."""
    return _doc(
        f"WebhookSubscription{action}",
        f"""
mutation WebhookSubscription{action}(${target}: {target_type}!, $sub: WebhookSubscriptionInput!) {{
  webhookSubscription{action}({target}: ${target}, webhookSubscription: $sub) {{
    webhookSubscription {{ id topic }}
    userErrors {{ field message }}
  }}
}}
""",
    )


_MEDIA_FIELDS = """
fragment MediaFields on Media {
  id
  alt
  status
  mediaContentType
  ... on MediaImage { image { url } }
}
"""

_VARIANT_FIELDS = """
fragment VariantFields on ProductVariant {
  id
  media(first: 1) { nodes { id } }
}
"""

_PRODUCT_FIELDS = (
    """
fragment ProductFields on Product {
  id
  title
  handle
  updatedAt
  media(first: $mediaFirst) { pageInfo { hasNextPage endCursor } nodes { ...MediaFields } }
  variants(first: $variantsFirst) { pageInfo { hasNextPage endCursor } nodes { ...VariantFields } }
}
"""
    + _MEDIA_FIELDS
    + _VARIANT_FIELDS
)

PRODUCTS_PAGE = _doc(
    "ProductsPage",
    """
query ProductsPage($first: Int!, $after: String, $query: String, $mediaFirst: Int!, $variantsFirst: Int!) {
  products(first: $first, after: $after, query: $query, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes { ...ProductFields }
  }
}
"""
    + _PRODUCT_FIELDS,
)

PRODUCT = _doc(
    "Product",
    """
query Product($id: ID!, $mediaFirst: Int!, $variantsFirst: Int!) {
  product(id: $id) { ...ProductFields }
}
"""
    + _PRODUCT_FIELDS,
)

PRODUCT_MEDIA_PAGE = _product_connection_page("ProductMediaPage", "media", _MEDIA_FIELDS)
PRODUCT_VARIANTS_PAGE = _product_connection_page("ProductVariantsPage", "variants", _VARIANT_FIELDS)
#: Only the order of a product's media: a few points where the full product costs about fourteen.
PRODUCT_MEDIA_IDS = _product_connection_page("ProductMediaIds", "media", "fragment MediaId on Media { id }\n")

PRODUCTS_COUNT = _doc(
    "ProductsCount",
    """
query ProductsCount($query: String) {
  productsCount(query: $query, limit: null) { count precision }
}
""",
)

#: The queries bulk operations run (sent as strings inside BulkProductsRun; build them with
#: :func:`bulk_products_query` and :func:`bulk_variant_media_query`).  Bulk queries take no
#: page sizes; nested rows come back as separate JSONL lines with ``__parentId``.  Bulk
#: queries allow connections nested at most two deep, so which media each variant shows
#: (products → variants → media would be three) is a second export over ``productVariants``.
_BULK_PRODUCTS_TEMPLATE = """
{
  products__ARGS__ {
    edges {
      node {
        id
        title
        handle
        updatedAt
        media {
          edges {
            node {
              id
              alt
              status
              mediaContentType
              ... on MediaImage { image { url } }
            }
          }
        }
        variants { edges { node { id } } }
      }
    }
  }
}
"""

_BULK_VARIANT_MEDIA = """
{
  productVariants {
    edges {
      node {
        id
        product { id }
        media { edges { node { id } } }
      }
    }
  }
}
"""

BULK_RUN = _doc(
    "BulkProductsRun",
    """
mutation BulkProductsRun($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}
""",
)

CURRENT_BULK = _doc(
    "CurrentBulkOperation",
    """
query CurrentBulkOperation {
  currentBulkOperation(type: QUERY) { id status errorCode objectCount url partialDataUrl }
}
""",
)

STAGED_UPLOADS_CREATE = _doc(
    "StagedUploadsCreate",
    """
mutation StagedUploadsCreate($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) {
    stagedTargets { url resourceUrl parameters { name value } }
    userErrors { field message }
  }
}
""",
)

FILE_CREATE = _files_mutation("Create")
FILE_UPDATE = _files_mutation("Update")

FILE_DELETE = _doc(
    "FileDelete",
    """
mutation FileDelete($fileIds: [ID!]!) {
  fileDelete(fileIds: $fileIds) {
    deletedFileIds
    userErrors { field message code }
  }
}
""",
)

MEDIA_NODES = _doc(
    "MediaNodes",
    """
query MediaNodes($ids: [ID!]!) {
  nodes(ids: $ids) {
    id
    ... on MediaImage {
      alt
      status
      fileStatus
      image { url }
      mediaErrors { code message details }
      fileErrors { code message details }
    }
  }
}
""",
)

FILES_BY_NAME = _doc(
    "FilesByName",
    """
query FilesByName($query: String!) {
  files(first: 20, query: $query) {
    nodes {
      id
      ... on MediaImage {
        image { url }
        originalSource { url }
        fileStatus
        fileErrors { code message details }
      }
    }
  }
}
""",
)

PRODUCT_REORDER_MEDIA = _doc(
    "ProductReorderMedia",
    """
mutation ProductReorderMedia($id: ID!, $moves: [MoveInput!]!) {
  productReorderMedia(id: $id, moves: $moves) {
    job { id done }
    mediaUserErrors { field message code }
  }
}
""",
)

JOB = _doc(
    "Job",
    """
query Job($id: ID!) {
  job(id: $id) { id done }
}
""",
)

VARIANT_APPEND_MEDIA = _variant_media_mutation("Append")
VARIANT_DETACH_MEDIA = _variant_media_mutation("Detach")

WEBHOOK_SUBSCRIPTIONS = _doc(
    "WebhookSubscriptions",
    """
query WebhookSubscriptions($topics: [WebhookSubscriptionTopic!], $after: String) {
  webhookSubscriptions(first: 100, after: $after, topics: $topics) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      topic
      endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } }
    }
  }
}
""",
)

WEBHOOK_SUBSCRIPTION_CREATE = _webhook_subscription_mutation("Create", "topic", "WebhookSubscriptionTopic")
WEBHOOK_SUBSCRIPTION_UPDATE = _webhook_subscription_mutation("Update", "id", "ID")


def bulk_variant_media_query() -> str:
    """The bulk query text listing every variant with the media it shows."""
    return _BULK_VARIANT_MEDIA.strip()


def bulk_products_query(search: str | None = None) -> str:
    """The bulk query text for products matching a search (None or empty: every product)."""
    if not search:
        return _BULK_PRODUCTS_TEMPLATE.strip().replace("__ARGS__", "")
    escaped = search.replace("\\", "\\\\").replace('"', '\\"')
    return _BULK_PRODUCTS_TEMPLATE.strip().replace("__ARGS__", f'(query: "{escaped}")')


# ------------------------------------------------------------------ billing
# A subscription with one usage line (``appUsagePricingDetails``: ``terms`` and a monthly
# ``cappedAmount``) the merchant approves at ``confirmationUrl``; each published image is one
# ``appUsageRecordCreate`` on that line, made idempotent by ``idempotencyKey``.


APP_SUBSCRIPTION_CREATE = _doc(
    "AppSubscriptionCreate",
    """
mutation AppSubscriptionCreate(
  $name: String!, $returnUrl: URL!, $test: Boolean, $lineItems: [AppSubscriptionLineItemInput!]!
) {
  appSubscriptionCreate(name: $name, returnUrl: $returnUrl, test: $test, lineItems: $lineItems) {
    appSubscription { id name status test }
    confirmationUrl
    userErrors { field message }
  }
}
""",
)

ACTIVE_SUBSCRIPTIONS = _doc(
    "ActiveSubscriptions",
    """
query ActiveSubscriptions {
  currentAppInstallation {
    activeSubscriptions {
      id
      name
      status
      test
      lineItems {
        id
        plan {
          pricingDetails {
            __typename
            ... on AppUsagePricing {
              terms
              cappedAmount { amount currencyCode }
              balanceUsed { amount currencyCode }
            }
          }
        }
      }
    }
  }
}
""",
)

APP_USAGE_RECORD_CREATE = _doc(
    "AppUsageRecordCreate",
    """
mutation AppUsageRecordCreate(
  $subscriptionLineItemId: ID!, $price: MoneyInput!, $description: String!, $idempotencyKey: String
) {
  appUsageRecordCreate(
    subscriptionLineItemId: $subscriptionLineItemId
    price: $price
    description: $description
    idempotencyKey: $idempotencyKey
  ) {
    appUsageRecord { id idempotencyKey }
    userErrors { field message }
  }
}
""",
)
