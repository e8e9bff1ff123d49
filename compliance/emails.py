"""Outgoing email: rendered from template triplets and sent through the outbox."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from email.mime.image import MIMEImage
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from compliance.models import OutboundEmail

logger = logging.getLogger(__name__)


def email_queue(
    *,
    template: str,
    to: list[str],
    context: dict[str, Any],
    headers: dict[str, str] | None = None,
    images: dict[str, bytes] | None = None,
) -> OutboundEmail:
    """Render ``emails/<template>_subject.txt``, ``.txt`` and ``.html`` and queue them, with
    extra ``headers`` and PNG ``images`` the HTML shows inline (``<img src="cid:NAME">``).

    Call inside the transaction of the write that causes the email; it is handed to a worker
    only after that transaction commits.
    """
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    email = OutboundEmail.objects.create(
        to=to,
        subject=subject[:250],
        text_body=render_to_string(f"emails/{template}.txt", context),
        html_body=render_to_string(f"emails/{template}.html", context),
        template=template,
        headers=headers or {},
        inline_images=[
            {"cid": cid, "content_type": "image/png", "data": base64.b64encode(data).decode()}
            for cid, data in (images or {}).items()
        ],
    )
    transaction.on_commit(lambda: email_enqueue(email.pk))
    return email


def email_enqueue(email_id: int) -> None:
    """Hand an outbox row to the workers; if the broker is down the outbox sweep retries."""
    from compliance.tasks import email_send

    try:
        email_send.delay(email_id)
    except BrokerError:
        logger.warning("Broker unavailable; email %s stays in the outbox for the sweep.", email_id)


def email_deliver(email_id: int) -> bool:
    """Send one outbox row if it is still unsent. Returns whether it was sent now."""
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update(no_key=True).filter(pk=email_id).first()
        if email is None:
            logger.info("Email %s no longer exists; nothing to send.", email_id)
            return False
        if email.sent_at is not None:
            return False
        email.attempts += 1
        message = EmailMultiAlternatives(
            subject=email.subject,
            body=email.text_body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=list(email.to),
            headers=dict(email.headers),
        )
        if email.html_body:
            message.attach_alternative(email.html_body, "text/html")
        if email.inline_images:
            # multipart/related: the HTML part refers to each image by its Content-ID.
            message.mixed_subtype = "related"  # type: ignore[attr-defined]  # not in the stubs
            for image in email.inline_images:
                part = MIMEImage(base64.b64decode(image["data"]), _subtype="png")
                part.add_header("Content-ID", f"<{image['cid']}>")
                part.add_header("Content-Disposition", "inline", filename=f"{image['cid']}.png")
                message.attach(part)
        try:
            message.send()
        except OSError as exc:
            email.last_error = f"{type(exc).__name__}: {exc}"
            email.save(update_fields=["attempts", "last_error"])
            raise
        email.sent_at = timezone.now()
        email.text_body = ""
        email.html_body = ""
        email.inline_images = []
        email.last_error = ""
        email.save(
            update_fields=[
                "attempts",
                "sent_at",
                "text_body",
                "html_body",
                "inline_images",
                "last_error",
            ]
        )
        return True


def email_unsent_ids(*, older_than_seconds: int, limit: int = 500) -> list[int]:
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    return list(
        OutboundEmail.objects.filter(sent_at__isnull=True, created_at__lt=cutoff, attempts__lt=10)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
