"""Which version of the code renders the public pages: when it changes (an upgrade), every page is
rendered again; when it does not (a restart), nothing is."""

import hashlib
from functools import lru_cache
from pathlib import Path

import signalpost

SOURCES = ("*.py", "*.html", "*.css", "*.js")


@lru_cache(maxsize=1)
def renderer_fingerprint() -> str:
    """A digest of the package's code and templates (everything a page is drawn from)."""
    root = Path(signalpost.__file__).parent
    digest = hashlib.blake2b(signalpost.__version__.encode(), digest_size=12)
    for pattern in SOURCES:
        for path in sorted(root.rglob(pattern)):
            if "migrations" in path.parts or "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
