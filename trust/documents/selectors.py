"""Reads of the trust page's documents and access requests. The admin pages are for the
organization's admins only (their callers check it); the public reads see only what is
published on a published page."""

from __future__ import annotations

from django.db.models import Case, Count, Prefetch, QuerySet, Value, When
from django.http import Http404

from trust.models import (
    AccessGrant,
    AccessRequest,
    AccessRequestStatus,
    AutoApproveRule,
    DocumentDownload,
    TrustDocument,
    TrustNda,
    TrustPage,
)

STATUS_FILTERS = {"": "All", **dict(AccessRequestStatus.choices)}


def document_list(*, page: TrustPage) -> QuerySet[TrustDocument]:
    return page.documents.annotate(download_count=Count("downloads")).order_by("position", "id")


def document_get(*, page: TrustPage, pk: int) -> TrustDocument:
    try:
        return page.documents.get(pk=pk)
    except TrustDocument.DoesNotExist:
        raise Http404("No such document.") from None


def download_list(
    *, page: TrustPage, document: TrustDocument | None = None, request: AccessRequest | None = None
) -> QuerySet[DocumentDownload]:
    downloads = DocumentDownload.objects.filter(document__page=page).select_related(
        "document", "grant__request"
    )
    if document is not None:
        downloads = downloads.filter(document=document)
    if request is not None:
        downloads = downloads.filter(grant__request=request)
    return downloads.order_by("-at", "-id")


def request_list(*, page: TrustPage, status: str = "") -> QuerySet[AccessRequest]:
    """Pending first, then newest first."""
    requests = page.access_requests.select_related("nda", "decided_by").prefetch_related(
        Prefetch("documents", queryset=TrustDocument.objects.only("id", "title"))
    )
    if status:
        requests = requests.filter(status=status)
    pending_first = Case(When(status=AccessRequestStatus.PENDING, then=Value(0)), default=Value(1))
    return requests.order_by(pending_first, "-created_at", "-id")


def request_get(*, page: TrustPage, pk: int) -> AccessRequest:
    try:
        return (
            page.access_requests.select_related("nda", "decided_by", "auto_approved_by")
            .prefetch_related(
                "documents",
                Prefetch("grants", queryset=AccessGrant.objects.order_by("-created_at")),
            )
            .get(pk=pk)
        )
    except AccessRequest.DoesNotExist:
        raise Http404("No such request.") from None


def nda_current(page: TrustPage) -> TrustNda | None:
    return page.ndas.order_by("-version").first()


def rule_list(*, page: TrustPage) -> QuerySet[AutoApproveRule]:
    return page.auto_approve_rules.order_by("domain")


# --- public -------------------------------------------------------------------------------------


def public_page(slug: str) -> TrustPage:
    """A published trust page, or 404 (unknown and unpublished look the same)."""
    try:
        return TrustPage.objects.select_related("organization").get(
            organization__slug=slug, published_at__isnull=False
        )
    except TrustPage.DoesNotExist:
        raise Http404("No such trust page.") from None


def public_gated_documents(page: TrustPage) -> QuerySet[TrustDocument]:
    return page.documents.filter(is_published=True, access="gated").order_by("position", "id")


def public_document(page: TrustPage, pk: int) -> TrustDocument:
    try:
        return page.documents.get(pk=pk, is_published=True, access="public")
    except TrustDocument.DoesNotExist:
        raise Http404("No such document.") from None


def grant_by_hash(page: TrustPage, digest: str) -> AccessGrant | None:
    return (
        AccessGrant.objects.select_related("request__page")
        .filter(token_hash=digest, request__page=page)
        .first()
    )
