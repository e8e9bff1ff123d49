from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from compliance import demo


class Command(BaseCommand):
    help = "Create the demo company (Northwind Cloud) once; a second run changes nothing."

    def handle(self, *args: Any, **options: Any) -> None:
        if demo.demo_exists():
            self.stdout.write("Demo data already present; nothing changed.")
        else:
            organization = demo.seed_demo()
            self.stdout.write(
                self.style.SUCCESS(f"Demo organization “{organization.name}” created.")
            )
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for email, title, role in demo.logins():
            self.stdout.write(f"  {email:<28} {role:<8} {title}")
