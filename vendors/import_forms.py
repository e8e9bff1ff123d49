"""The vendor import form: a file and what to do with rows that have errors."""

from __future__ import annotations

from typing import Any

from django import forms

from compliance.fields import FileInput
from compliance.tabular import MAX_BYTES
from vendors.importer import ImportMode


class VendorImportForm(forms.Form):
    file = forms.FileField(
        widget=FileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
        label="CSV or Excel file",
        help_text="A header line, then one vendor per line; the columns are described under "
        "“The file”.",
    )
    mode = forms.ChoiceField(
        choices=[(m.value, m.label) for m in ImportMode],
        initial=ImportMode.ALL_OR_NOTHING.value,
        widget=forms.RadioSelect,
        label="If some rows have errors",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it."
            )
        return upload
