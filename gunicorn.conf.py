"""gunicorn's settings for the production image (Dockerfile; docker-compose.yml's web service).

Run as ``gunicorn --config gunicorn.conf.py compliance.wsgi:application``.
"""

from gunicorn.http import wsgi

bind = "0.0.0.0:8000"
workers = 3
timeout = 60
accesslog = "-"
# X-Forwarded-* are read by Django (BEHIND_TLS_PROXY, TRUSTED_PROXIES), not by gunicorn.

# gunicorn names itself in a ``Server`` header on every response and has no setting to leave it
# out (benoitc/gunicorn issue 825 asks for one). Telling scanners which server runs Attest helps
# nobody but them, so the header is dropped from the status lines gunicorn writes itself.
_default_headers = wsgi.Response.default_headers


def _default_headers_without_server(self: wsgi.Response) -> list[str]:
    return [line for line in _default_headers(self) if not line.startswith("Server:")]


wsgi.Response.default_headers = _default_headers_without_server  # type: ignore[method-assign]
