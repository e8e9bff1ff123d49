from typing import Any

from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "trust"
    verbose_name = "Trust page and questionnaires"

    def ready(self) -> None:
        from django.db.models import Model
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from audits.models import Audit
        from compliance.models import Organization
        from trust import models
        from trust.page_cache import bump
        from vendors.models import Vendor

        # Whatever the public page shows invalidates its cached body when it changes, whichever
        # service (or the admin site, or a migration) wrote it.
        def by_page(sender: Any, instance: Any, **kwargs: Any) -> None:
            page_id = getattr(instance, "page_id", None)
            if page_id is not None:
                organization_id = (
                    models.TrustPage.objects.filter(pk=page_id)
                    .values_list("organization_id", flat=True)
                    .first()
                )
                if organization_id is not None:
                    bump(organization_id)

        def by_organization(sender: Any, instance: Any, **kwargs: Any) -> None:
            organization_id = getattr(instance, "organization_id", None)
            if organization_id is not None:
                bump(organization_id)

        def the_organization(sender: Any, instance: Any, **kwargs: Any) -> None:
            bump(instance.pk)

        paged: tuple[type[Model], ...] = (
            models.TrustCertification,
            models.TrustControlCategory,
            models.TrustFaq,
            models.TrustDocument,
        )
        for model in paged:
            post_save.connect(
                by_page, sender=model, dispatch_uid=f"trust-bump-{model.__name__}", weak=False
            )
            post_delete.connect(
                by_page,
                sender=model,
                dispatch_uid=f"trust-bump-del-{model.__name__}",
                weak=False,
            )
        m2m_changed.connect(
            by_page,
            sender=models.TrustControlCategory.controls.through,
            dispatch_uid="trust-m2m",
            weak=False,
        )
        owned: tuple[type[Model], ...] = (models.TrustPage, Vendor, Audit)
        for model in owned:
            post_save.connect(
                by_organization,
                sender=model,
                dispatch_uid=f"trust-bump-{model.__name__}",
                weak=False,
            )
            post_delete.connect(
                by_organization,
                sender=model,
                dispatch_uid=f"trust-bump-del-{model.__name__}",
                weak=False,
            )
        post_save.connect(
            the_organization, sender=Organization, dispatch_uid="trust-bump-org", weak=False
        )
        from trust.library import policies  # noqa: F401  (registrations)
