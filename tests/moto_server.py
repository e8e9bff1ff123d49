"""moto's server as a real HTTP endpoint on a free loopback port, for tests of code that speaks
to AWS (evidence on S3, the AWS checks): the requests leave the process like they would in
production, and nothing in boto3 is patched."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "region_name": "us-east-1",
}


def free_port() -> int:
    """A loopback port nobody listens on (just now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def loopback_process(
    command: list[str], port: int, name: str, start_timeout: float = 30
) -> Iterator[None]:
    """Run ``command`` (a server that will listen on 127.0.0.1:``port``) for the block: wait
    until the port accepts a connection, then stop the process at the end."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter running a test server
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start")
            time.sleep(0.1)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def moto_server(start_timeout: float = 30) -> Iterator[str]:
    """Run ``python -m moto.server`` for the block; yields its address."""
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with loopback_process(command, port, "moto's server", start_timeout):
        yield f"http://127.0.0.1:{port}"


def moto_reset(endpoint: str) -> None:
    """Forget every resource the server holds (all services, all regions)."""
    url = f"{endpoint}/moto-api/reset"
    request = urllib.request.Request(url, method="POST")  # noqa: S310 - our loopback server
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - same
        response.read()
