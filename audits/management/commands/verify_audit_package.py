from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.package.keys import BadPublicKey
from audits.package.verify import PackageUnreadable, verify_package


class Command(BaseCommand):
    help = (
        "Verify an audit package: the manifest's Ed25519 signature and every file's SHA-256. "
        "Names each file altered, added or removed; exits 1 on any mismatch. Without "
        "--public-key the key written in the manifest is used, which proves the files match "
        "the manifest but not who signed it: pass the organization's key as the app shows it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the package (ZIP)")
        parser.add_argument(
            "--public-key", dest="public_key", default=None, help="base64 Ed25519 public key"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = verify_package(options["file"], options["public_key"])
        except FileNotFoundError:
            raise CommandError(f"No file at {options['file']}.") from None
        except (PackageUnreadable, BadPublicKey) as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"Could not read {options['file']}: {exc}.") from exc
        if not result.signature_ok:
            source = "the given public key" if result.key_source == "given" else "its own key"
            self.stderr.write(
                f"BAD SIGNATURE  manifest.json is not signed by {source} "
                "(the manifest was altered, or the package is another organization's)"
            )
        for path in result.altered:
            self.stderr.write(f"ALTERED  {path}")
        for path in result.removed:
            self.stderr.write(f"REMOVED  {path}")
        for path in result.added:
            self.stderr.write(f"ADDED    {path}")
        engagement = result.engagement.get("name", "?")
        if not result.ok:
            problems = len(result.altered) + len(result.removed) + len(result.added)
            raise CommandError(
                f"The package of “{engagement}” does not verify: "
                f"{'bad signature, ' if not result.signature_ok else ''}"
                f"{problems} file problem(s) among {result.checked} checked."
            )
        warning = (
            ""
            if result.key_source == "given"
            else " (checked with the key in the manifest: compare it with the one the app shows)"
        )
        self.stdout.write(
            f"OK  “{engagement}”: signature valid, {result.checked} files match the "
            f"manifest{warning}. Public key {result.public_key}."
        )
