"""git's offset varint (``decode_varint`` in varint.c), shared by index v4 path prefixes and
pack ofs-deltas."""
from __future__ import annotations

TYPE_CHECKING = False  # (typing is not imported at run time: start-up time counts here)
if TYPE_CHECKING:
    import mmap


def offset_varint(data: bytes | mmap.mmap, pos: int) -> tuple[int, int]:
    """git's offset varint (``decode_varint``): index v4 path prefixes and pack ofs-deltas."""
    c = data[pos]
    pos += 1
    value = c & 0x7F
    while c & 0x80:
        c = data[pos]
        pos += 1
        value = ((value + 1) << 7) | (c & 0x7F)
    return value, pos
