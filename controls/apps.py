from django.apps import AppConfig


class ControlsConfig(AppConfig):
    name = "controls"
    verbose_name = "Frameworks and controls"

    def ready(self) -> None:
        from controls import policies  # noqa: F401  (registers the object policies)
        from controls.monitoring import readiness  # noqa: F401  (the tests' readiness blockers)
