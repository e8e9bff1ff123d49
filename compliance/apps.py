from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Attest core"

    def ready(self) -> None:
        from compliance import policies  # noqa: F401  (registers the object policies)
