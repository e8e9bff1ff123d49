"""aiosmtpd as a real SMTP server on a free loopback port, for tests of the emails as a mail
server receives them: Django's SMTP backend connects, speaks SMTP and hands the message over,
and the server writes it to a Maildir the test reads back (nothing in Django is patched)."""

from __future__ import annotations

import email
import email.policy
import mailbox
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from tests.moto_server import free_port


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
    process = subprocess.Popen(  # noqa: S603 - our own interpreter running aiosmtpd
        [
            sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
            "-c", "aiosmtpd.handlers.Mailbox", str(maildir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("aiosmtpd did not start")
            time.sleep(0.1)
        yield SmtpServer("127.0.0.1", port, maildir)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
