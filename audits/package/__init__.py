"""The signed audit package (issue 12, item 9): an engagement exported as a ZIP of its controls
matrix, its evidence files and a signed manifest, built by a worker, verified by anybody with
the organization's public key (``manage.py verify_audit_package``)."""
