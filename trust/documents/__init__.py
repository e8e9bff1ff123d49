"""The trust page's documents: uploads, NDA versions, auto-approve domains, access requests
from outside, the signed links that grant them, and the download log."""
