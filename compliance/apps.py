from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Attest core"

    def ready(self) -> None:
        from compliance import policies  # noqa: F401  (registers the object policies)
        from compliance.meetings import work  # noqa: F401  (the action items in My work)
