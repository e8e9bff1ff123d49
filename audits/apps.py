from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = "Audits"

    def ready(self) -> None:
        from audits import pbc_policies, policies, services, work  # noqa: F401  (registrations, signal receivers)
        from audits.package import policies as package_policies  # noqa: F401
        from audits.package import workspace_columns  # noqa: F401  (the matrix's columns)
        from audits.sampling import policies as sampling_policies  # noqa: F401
