from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "trust"
    verbose_name = "Trust page and questionnaires"

    def ready(self) -> None:
        from trust.library import policies  # noqa: F401  (registrations)
