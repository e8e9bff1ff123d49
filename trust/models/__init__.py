"""The public trust page, its gated documents, and the questionnaire answer library."""

from trust.models.page import TrustPage

__all__ = ["TrustPage"]
