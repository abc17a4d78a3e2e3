"""``--fetch``: ask the remote for a branch tip (ls-remote; no objects downloaded)."""
from __future__ import annotations

import os
import threading

TIMEOUT_S = 15.0


class RemoteError(Exception):
    pass


def remote_branch_sha(url: str, branch: str, *, base: str, timeout: float = TIMEOUT_S
                      ) -> str | None:
    """The sha of ``refs/heads/<branch>`` on ``url`` (None when the remote lacks it)."""
    os.environ.setdefault("GIT_TERMINAL_PROMPT", "0")
    os.environ.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes -o ConnectTimeout=10")
    if "://" not in url and ":" not in url.split("/")[0] and not os.path.isabs(url):
        url = os.path.normpath(os.path.join(base, url))
    result: dict[str, object] = {}

    def ask() -> None:
        try:
            from dulwich.client import get_transport_and_path

            client, path = get_transport_and_path(url)
            refs = client.get_refs(path.encode() if isinstance(path, str) else path)
            result["refs"] = getattr(refs, "refs", refs)
        except Exception as e:  # any transport failure is "unreachable"
            result["error"] = e

    worker = threading.Thread(target=ask, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise RemoteError(f"no answer within {timeout:.0f} s")
    if "error" in result:
        raise RemoteError(str(result["error"]) or type(result["error"]).__name__)
    refs = result["refs"]
    assert isinstance(refs, dict)
    sha = refs.get(f"refs/heads/{branch}".encode())
    return sha.decode() if isinstance(sha, bytes) else None
