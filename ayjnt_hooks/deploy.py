"""``ayjnt-deploy``: the deploy gate (body lands with its own issue)."""
from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    sys.stderr.write("ayjnt-deploy: not implemented yet\n")
    return 3


if __name__ == "__main__":
    raise SystemExit(main())
