"""aiosmtpd as a real SMTP server on a free loopback port, for tests of the emails as a mail
server receives them: Django's SMTP backend connects, speaks SMTP and hands the message over,
and the server writes it to a Maildir the test reads back (nothing in Django is patched)."""

from __future__ import annotations

import email
import email.policy
import mailbox
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from tests.moto_server import free_port, loopback_process


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    maildir: Path

    def messages(self) -> list[EmailMessage]:
        """Every message received so far, parsed with the modern email policy."""
        box = mailbox.Maildir(self.maildir, create=False)
        return [
            email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)  # type: ignore[misc]
            for key in sorted(box.keys())
        ]


@contextmanager
def smtp_server(maildir: Path, start_timeout: float = 30) -> Iterator[SmtpServer]:
    """Run ``python -m aiosmtpd`` with its Maildir handler for the block."""
    port = free_port()
    command = [
        sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
        "-c", "aiosmtpd.handlers.Mailbox", str(maildir),
    ]  # fmt: skip
    with loopback_process(command, port, "aiosmtpd", start_timeout):
        yield SmtpServer("127.0.0.1", port, maildir)
