from django.apps import AppConfig


class VendorsConfig(AppConfig):
    name = "vendors"
    verbose_name = "Vendors"

    def ready(self) -> None:
        from vendors import policies, reports, snapshots, work  # noqa: F401  (registrations)
