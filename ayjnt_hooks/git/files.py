"""Reading git's own files safely: only regular files are read (a FIFO in ``.git`` would block
a check forever, a device would never end), and object ids are checked before use."""
from __future__ import annotations

import os

_HEX = frozenset("0123456789abcdef")


def is_hex_oid(text: str) -> bool:
    """A full SHA-1 object id in lower-case hex."""
    return len(text) == 40 and _HEX.issuperset(text)


def read_regular(path: str) -> bytes | None:
    """The bytes of a regular file; None when it does not exist. A folder raises
    IsADirectoryError, anything else that is not a regular file ValueError (see
    :mod:`.damage`, which turns both into a message)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        import stat

        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "Is a directory")
        if not stat.S_ISREG(mode):
            from .damage import Corrupt

            raise Corrupt("not a regular file")
        return read_all(fd, 1 << 20)
    finally:
        os.close(fd)


def read_all(fd: int, step: int = 1 << 16) -> bytes:
    """Everything left in an open file, ``step`` bytes a read."""
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, step)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def read_shallow(commondir: str) -> set[str]:
    """``shallow``: the commits whose parents this clone lacks, one id a line."""
    from .damage import Corrupt, reading

    path = os.path.join(commondir, "shallow")
    with reading(path, "shallow file", "repair it, or make the clone a full one: "
                                       "`git fetch --unshallow`"):
        data = read_regular(path)
        if data is None:
            return set()
        ids = set()
        lines = data.split(b"\n")
        if lines[-1] == b"":
            lines.pop()  # (the newline that ends the last line)
        for number, line in enumerate(lines, 1):
            text = line.decode("ascii", "replace")
            if not is_hex_oid(text):
                raise Corrupt(f"line {number} is not an object id")
            ids.add(text)
        return ids
