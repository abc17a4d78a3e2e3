"""What ayjnt's build writes into ``.ayjnt/dist/wrangler.jsonc`` (reference §4), for checks."""
from __future__ import annotations

import re

_OUTSIDE_NAME = "[^a-z0-9_-]+"


def worker_name_from_package(name: str) -> str:
    """ayjnt's sanitisation of ``package.json`` ``name`` (TV-26); ``""`` means "fall back"."""
    if name.startswith("@") and "/" in name:
        name = name.split("/", 1)[1]
    return re.sub(_OUTSIDE_NAME, "-", name.lower()).strip("-")
