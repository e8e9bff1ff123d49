"""The "Operating effectiveness" tab: expected against delivered occurrences of the recurring
evidence requests, and the automated tests' runs, passes and failing intervals over the
engagement's window (audits.effectiveness)."""

from __future__ import annotations

from typing import Any

from django.views.generic import TemplateView

from audits.effectiveness import MAX_ROWS, effectiveness
from audits.tabs import Tab, register_tab
from audits.views.base import AuditMixin

# Operating effectiveness is what a Type II audit tests over its period; a Type I tests the
# design of the controls as of one date (its Controls tab shows each as it stood then).
register_tab(
    Tab(
        "effectiveness",
        "Operating effectiveness",
        "audit_effectiveness",
        35,
        lambda audit, membership: not audit.is_type_1,
    )
)


class EffectivenessView(AuditMixin, TemplateView):
    template_name = "audits/effectiveness.html"
    tab = "effectiveness"
    log_label = "operating effectiveness"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if self.audit.is_type_1:
            return context  # the page says why there is nothing to measure
        context.update(figures=effectiveness(user=self.actor, audit=self.audit), cap=MAX_ROWS)
        return context
