from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = "Audits"

    def ready(self) -> None:
        from audits import policies, services  # noqa: F401  (registrations, signal receivers)
        from audits.sampling import policies as sampling_policies  # noqa: F401
