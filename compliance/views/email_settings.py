"""The weekly emails' settings: Account → Email (signed in), and the unsubscribe link each
email carries (no sign-in: the signed token names the person's membership and the email)."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt

from compliance.digest import KINDS, email_preference_set, unsubscribe_read
from compliance.models import Membership, Role, User


@login_required
def email_settings(request: HttpRequest) -> HttpResponse:
    """Per organization the person belongs to, each weekly email on or off. The digest is
    offered to admins only (nobody else gets it)."""
    user = cast(User, request.user)
    memberships = list(
        Membership.objects.active()
        .filter(user=user)
        .exclude(role=Role.AUDITOR)
        .select_related("organization")
        .order_by("organization__name")
    )
    if request.method == "POST":
        for membership in memberships:
            for kind in KINDS.values():
                if kind.key == "digest" and membership.role != Role.ADMIN:
                    continue
                wanted = request.POST.get(f"{kind.key}-{membership.pk}") == "on"
                if getattr(membership, kind.field) != wanted:
                    email_preference_set(membership=membership, kind=kind.key, on=wanted)
        messages.success(request, "Your email settings were saved.")
        return redirect("email_settings")
    rows = [
        {
            "membership": membership,
            "digest": membership.email_weekly_digest if membership.role == Role.ADMIN else None,
            "your_week": membership.email_your_week,
        }
        for membership in memberships
    ]
    return render(request, "account/email_settings.html", {"rows": rows})


@csrf_exempt  # RFC 8058: mail clients post "List-Unsubscribe=One-Click" with no form token
def email_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks to confirm (a link scanner's visit changes nothing); POST turns the email off.
    The token can only turn one email off for one membership, so it needs no sign-in."""
    found = unsubscribe_read(token)
    if found is None:
        return render(request, "account/email_unsubscribe.html", {"invalid": True}, status=404)
    membership, kind = found
    done = False
    if request.method == "POST":
        email_preference_set(membership=membership, kind=kind.key, on=False)
        done = True
    elif request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    return render(
        request,
        "account/email_unsubscribe.html",
        {"membership": membership, "kind": kind, "done": done},
    )
