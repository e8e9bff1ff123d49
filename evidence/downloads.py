"""A stored file as a download, the one way evidence, trust documents and vendor documents are
served: an attachment under its original name, a content type a browser never runs, never
sniffed, never framed, never cached, streamed from storage."""

from __future__ import annotations

from django.http import FileResponse
from django.utils.http import content_disposition_header

from evidence import storage
from evidence.uploads import download_content_type


def attachment_response(
    storage_key: str, *, original_name: str, content_type: str, size: int
) -> FileResponse:
    """``FileNotFoundError`` when the file is gone from storage: the caller says what is
    missing (a 404 that says so, and an error in the log)."""
    stored = storage.open_file(storage_key)
    response = FileResponse(stored, content_type=download_content_type(content_type))
    response["Content-Disposition"] = content_disposition_header(True, original_name)
    response["Content-Length"] = str(size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    response["X-Frame-Options"] = "DENY"
    return response
