from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidence"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from evidence import policies, readiness, work  # noqa: F401  (registrations)
        from evidence.uploads import discard_partial_uploads

        request_finished.connect(discard_partial_uploads, dispatch_uid="evidence-partial-uploads")
