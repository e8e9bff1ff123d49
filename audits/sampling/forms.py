from __future__ import annotations

from typing import Any

from django import forms

from audits.models import PopulationKind


class PopulationForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(label="Made of", choices=PopulationKind.choices)
    control: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Any control"
    )

    def __init__(self, *args: Any, controls: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["control"].queryset = controls  # type: ignore[attr-defined]
        self.fields[
            "control"
        ].help_text = "Occurrences, test runs and pull requests of one control (optional)."


class SampleForm(forms.Form):
    size = forms.IntegerField(min_value=1, required=False)
    seed = forms.IntegerField(
        min_value=0,
        required=False,
        help_text="Leave empty for a new random seed; a recorded seed draws the same sample.",
    )
