"""The policies pages (one module per part; the URLs import them from here)."""

from policies.views.detail import (
    PolicyAcknowledgeView,
    PolicyActionView,
    PolicyDetailView,
    PolicyReviewView,
    PolicySendView,
)
from policies.views.pages import (
    PolicyCreateView,
    PolicyEditView,
    PolicyLibraryView,
    PolicyListView,
)
from policies.views.versions import (
    VersionActionView,
    VersionApproveView,
    VersionCreateView,
    VersionDetailView,
    VersionEditView,
    VersionMixin,
    VersionPdfView,
    VersionPreviewView,
    VersionRetireView,
    VersionReturnView,
    VersionSubmitView,
)

__all__ = [
    "PolicyAcknowledgeView",
    "PolicyActionView",
    "PolicyCreateView",
    "PolicyDetailView",
    "PolicyEditView",
    "PolicyLibraryView",
    "PolicyListView",
    "PolicyReviewView",
    "PolicySendView",
    "VersionActionView",
    "VersionApproveView",
    "VersionCreateView",
    "VersionDetailView",
    "VersionEditView",
    "VersionMixin",
    "VersionPdfView",
    "VersionPreviewView",
    "VersionRetireView",
    "VersionReturnView",
    "VersionSubmitView",
]
