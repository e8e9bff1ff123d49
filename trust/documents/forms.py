"""Forms of the trust page's documents: the admins' and the requester's."""

from __future__ import annotations

from typing import Any

from django import forms

from trust.models import AccessRequestStatus, DocumentAccess, TrustDocument


class DocumentUploadForm(forms.Form):
    title = forms.CharField(max_length=150)
    description = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    access = forms.ChoiceField(choices=DocumentAccess.choices, initial=DocumentAccess.GATED)
    is_published = forms.BooleanField(label="Published on the trust page", required=False)
    file = forms.FileField()


class DocumentEditForm(forms.Form):
    title = forms.CharField(max_length=150)
    description = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    access = forms.ChoiceField(choices=DocumentAccess.choices)
    is_published = forms.BooleanField(label="Published on the trust page", required=False)


class NdaForm(forms.Form):
    text = forms.CharField(
        label="NDA text",
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Saving changed text publishes a new version; requesters accept the newest.",
    )


class DomainForm(forms.Form):
    domain = forms.CharField(
        max_length=253,
        help_text="Requests from this domain or its subdomains are approved at once.",
    )


class DecisionForm(forms.Form):
    note = forms.CharField(max_length=500, required=False)


class RequestFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "All statuses"), *AccessRequestStatus.choices], required=False
    )


class AccessRequestForm(forms.Form):
    name = forms.CharField(max_length=150)
    email = forms.EmailField(label="Work email", max_length=254)
    company = forms.CharField(max_length=150)
    reason = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why you need them",
    )
    documents = forms.ModelMultipleChoiceField(
        queryset=TrustDocument.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one document."},
    )
    accept_nda = forms.BooleanField(
        label="I accept the non-disclosure agreement above",
        error_messages={"required": "Accept the NDA to request the documents."},
    )
    # The honeypot: hidden by CSS, a person leaves it empty; a bot fills every field.
    website = forms.CharField(required=False, label="Leave this field empty")

    def __init__(self, *args: Any, documents: Any, has_nda: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = documents  # type: ignore[attr-defined]
        self.fields["documents"].initial = [d.pk for d in documents]
        if not has_nda:
            del self.fields["accept_nda"]
