"""PDF export of approved versions: a real PDF with the version, approver and effective date on
every page; drafts do not export; the download is an attachment with nosniff."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from policies import services
from policies.library_files import parse_library
from policies.models import PolicyVersion
from policies.pdf import render_version_pdf, stamp_text
from tests.conftest import World
from tests.policies.factories import approved_policy, first_version, make_policy

LONG_BODY = parse_library()[0].body.replace("{{ organization }}", "Acme")


def pdf_literal(text: str) -> bytes:
    """``text`` as reportlab writes it in a content stream: WinAnsi, non-ASCII as octal."""
    out = b""
    for byte in text.encode("cp1252"):
        if byte > 126:
            out += b"\\%03o" % byte
        elif chr(byte) in "()\\":
            out += b"\\" + bytes([byte])
        else:
            out += bytes([byte])
    return out


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def approved_version(world: World) -> PolicyVersion:
    effective = timezone.localdate() - dt.timedelta(days=10)
    _, version = approved_policy(
        world, title="Information Security Policy", body=LONG_BODY, effective=effective
    )
    return PolicyVersion.objects.select_related("policy__organization", "approved_by").get(
        pk=version.pk
    )


def test_the_export_is_a_pdf_with_a_title_page_and_the_text(world: World) -> None:
    version = approved_version(world)

    pdf = render_version_pdf(version, compress=False, invariant=True)

    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert pages(pdf) >= 3  # the title page, then a long policy
    assert b"Information Security Policy" in pdf
    assert b"Acme" in pdf
    assert b"Executive sponsor" in pdf  # text from the body (a list item)


def test_every_page_carries_the_version_the_approver_and_the_effective_date(world: World) -> None:
    version = approved_version(world)
    stamp = stamp_text(version)
    assert "Version 1" in stamp and "Approved by Admin" in stamp
    assert version.effective_date.strftime("%Y") in stamp

    pdf = render_version_pdf(version, compress=False, invariant=True)

    # Header and footer on each page, in the uncompressed content streams.
    assert pdf.count(b"(" + pdf_literal(stamp) + b") Tj") == pages(pdf)
    assert pdf.count(b"(Current approved text " + pdf_literal("· " + stamp) + b") Tj") == pages(pdf)


def test_the_same_version_exports_the_same_bytes_in_invariant_mode(world: World) -> None:
    version = approved_version(world)

    assert render_version_pdf(version, invariant=True) == render_version_pdf(
        version, invariant=True
    )


def test_compressed_output_is_smaller_and_still_a_pdf(world: World) -> None:
    version = approved_version(world)

    compressed = render_version_pdf(version)

    assert compressed.startswith(b"%PDF-")
    assert len(compressed) < len(render_version_pdf(version, compress=False))


def test_markdown_tables_code_and_nested_lists_render(world: World) -> None:
    body = (
        "# T\n\n| A | B |\n|---|---|\n| 1 | <script>x</script>2 |\n\n```\ncode & more\n```\n\n"
        "- outer\n    - inner\n\n> quote\n\n---\n\nText with a [link](https://example.test).\n"
    )
    _, version = approved_policy(world, title="Markup", body=body)
    version = PolicyVersion.objects.select_related("policy__organization").get(pk=version.pk)

    pdf = render_version_pdf(version, compress=False)

    assert pages(pdf) >= 2
    assert b"code & more" in pdf
    assert b"inner" in pdf
    assert b"<script>" not in pdf
    assert b"https://example.test" in pdf  # the link annotation


def test_a_draft_cannot_be_rendered(world: World) -> None:
    policy = make_policy(world)

    with pytest.raises(ValueError, match="approved"):
        render_version_pdf(first_version(policy))


def test_the_download_is_an_attachment_with_nosniff(world: World) -> None:
    version = approved_version(world)
    url = reverse("policy_version_pdf", args=["acme", version.policy_id, version.number])

    response = world.client("admin").get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="information-security-policy-v1.pdf"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"%PDF-")


@pytest.mark.parametrize("status", ["draft", "in_review"])
def test_versions_that_are_not_approved_do_not_export(world: World, status: str) -> None:
    policy = make_policy(world)
    version = first_version(policy)
    if status == "in_review":
        services.policy_version_submit(actor=world.users["admin"], version=version)
    url = reverse("policy_version_pdf", args=["acme", policy.pk, 1])

    response = world.client("admin").get(url)

    assert response.status_code == 404
    assert b"%PDF" not in response.content


def test_a_retired_version_still_exports_and_says_so(world: World) -> None:
    version = approved_version(world)
    services.policy_version_retire(actor=world.users["admin"], version=version, reason="Replaced")
    version.refresh_from_db()

    pdf = render_version_pdf(version, compress=False)

    assert b"Retired version" in pdf
