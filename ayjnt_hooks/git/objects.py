"""A small read-only object reader for the hot path: loose objects and packed objects (delta
chains resolved within their pack), found through the pack ``.idx`` v2 files. Anything else —
a delta against another pack, an object in an alternate store — is left to dulwich (the
caller falls back)."""
from __future__ import annotations

import mmap
import os
import struct
import zlib

from .varint import offset_varint

_TYPES = {b"commit": 1, b"tree": 2, b"blob": 3, b"tag": 4}
_OFS_DELTA, _REF_DELTA = 6, 7
_MAX_DELTA_CHAIN = 10_000  # git's own packs stay under a few hundred
_WINDOW = 48  # rows either side of an id's predicted place (see _Pack._position)


def find_oid(data: bytes | mmap.mmap, fanout: int, oids: int, sha: bytes) -> int | None:
    """Position of ``sha`` in a git fanout table + sorted 20-byte id list (pack idx v2 and
    commit-graph share this layout)."""
    first = sha[0]
    lo: int = struct.unpack_from(">I", data, fanout + 4 * (first - 1))[0] if first else 0
    hi: int = struct.unpack_from(">I", data, fanout + 4 * first)[0]
    while lo < hi:
        mid = (lo + hi) // 2
        probe = data[oids + 20 * mid:oids + 20 * mid + 20]
        if probe < sha:
            lo = mid + 1
        elif probe > sha:
            hi = mid
        else:
            return mid
    return None


class _Pack:
    def __init__(self, idx_path: str) -> None:
        with open(idx_path, "rb") as f:
            self.idx = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if self.idx[:8] != b"\xfftOc\x00\x00\x00\x02":
            raise ValueError("not a v2 pack index")
        self.count = struct.unpack_from(">I", self.idx, 8 + 255 * 4)[0]
        self.pack_path = idx_path[:-4] + ".pack"
        self._pack: mmap.mmap | None = None

    def _position(self, sha: bytes) -> int | None:
        """``find_oid`` for many look-ups (a history walk asks for thousands): ids are
        uniformly distributed, so the id's first bytes predict its place in the sorted
        table to within a few dozen rows, and one ``bytes.find`` over that window (C speed)
        replaces a dozen Python-level probes."""
        idx, oids = self.idx, 8 + 256 * 4
        first = sha[0]
        lo: int = struct.unpack_from(">I", idx, 8 + 4 * (first - 1))[0] if first else 0
        hi: int = struct.unpack_from(">I", idx, 8 + 4 * first)[0]
        guess = lo + ((int.from_bytes(sha[1:4], "big") * (hi - lo)) >> 24)
        start, stop = max(lo, guess - _WINDOW), min(hi, guess + _WINDOW)
        window = idx[oids + 20 * start:oids + 20 * stop]
        at = window.find(sha)
        while at >= 0:
            if at % 20 == 0:
                return start + at // 20
            at = window.find(sha, at + 1)  # (a match across two ids: keep looking)
        if start < stop and sha < window[:20]:
            hi = start
        elif start < stop and sha > window[-20:]:
            lo = stop
        else:
            return None
        while lo < hi:  # outside the window: bisect what is left
            mid = (lo + hi) // 2
            probe = idx[oids + 20 * mid:oids + 20 * mid + 20]
            if probe < sha:
                lo = mid + 1
            elif probe > sha:
                hi = mid
            else:
                return mid
        return None

    def offset(self, sha: bytes) -> int | None:
        pos = find_oid(self.idx, 8, 8 + 256 * 4, sha)
        if pos is None:
            return None
        return self._offset_at(pos)

    def offset_many(self, sha: bytes) -> int | None:
        """``offset`` for a caller that will ask for many ids (see ``_position``)."""
        pos = self._position(sha)
        return None if pos is None else self._offset_at(pos)

    def _offset_at(self, pos: int) -> int:
        idx = self.idx
        offsets = 8 + 256 * 4 + 24 * self.count
        (off,) = struct.unpack_from(">I", idx, offsets + 4 * pos)
        if off & 0x80000000:
            large = offsets + 4 * self.count + 8 * (off & 0x7FFFFFFF)
            (off,) = struct.unpack_from(">Q", idx, large)
        return int(off)

    def read(self, offset: int, limit: int | None = None) -> tuple[int, bytes] | None:
        """(type, content) of the entry at ``offset``, resolving delta chains within this
        pack; None when a base lies elsewhere (dulwich then serves it). With ``limit``, an
        undeltified entry is inflated only that far (a commit's header is all a walk needs)."""
        if self._pack is None:
            with open(self.pack_path, "rb") as f:
                self._pack = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        pack = self._pack
        deltas: list[bytes] = []
        for _ in range(_MAX_DELTA_CHAIN):
            c = pack[offset]
            type_num = (c >> 4) & 7
            size = c & 15
            shift = 4
            pos = offset + 1
            while c & 0x80:
                c = pack[pos]
                pos += 1
                size |= (c & 0x7F) << shift
                shift += 7
            if type_num == _OFS_DELTA:  # base at a backwards offset in this pack
                back, pos = offset_varint(pack, pos)
                base: int | None = offset - back
            elif type_num == _REF_DELTA:  # base named by id
                base = self.offset(bytes(pack[pos:pos + 20]))
                pos += 20
            elif type_num in (1, 2, 3, 4):
                if limit is not None and not deltas and limit < size:
                    head = self._inflate(pos, size, limit)
                    return None if head is None else (type_num, head)
                data = self._inflate(pos, size)
                for delta in reversed(deltas):
                    if data is None:
                        return None
                    data = _apply_delta(data, delta)
                return None if data is None else (type_num, data)
            else:
                return None
            delta_data = self._inflate(pos, size)
            if base is None or delta_data is None:
                return None
            deltas.append(delta_data)
            offset = base
        return None

    def _inflate(self, pos: int, size: int, limit: int | None = None) -> bytes | None:
        assert self._pack is not None
        pack = self._pack
        d = zlib.decompressobj()
        if limit is not None:  # the first ``limit`` bytes (zlib stops there)
            try:
                out = d.decompress(pack[pos:pos + limit + 64], limit)
            except zlib.error:
                return None
            return out if len(out) == limit else self._inflate(pos, size)
        try:
            out = d.decompress(pack[pos:pos + size + 64 + size // 8], size)
            while len(out) < size and not d.eof:
                more = pack[pos + len(d.unused_data):pos + len(d.unused_data) + 4096]
                if not more:
                    break
                out += d.decompress(more, size - len(out))
        except zlib.error:
            return None
        return out if len(out) == size else None


def _delta_size(delta: bytes, pos: int) -> tuple[int, int]:
    size = shift = 0
    while True:
        c = delta[pos]
        pos += 1
        size |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return size, pos


def _apply_delta(base: bytes, delta: bytes) -> bytes | None:
    """git's delta format: copy ranges of the base, insert literal bytes."""
    try:
        base_size, pos = _delta_size(delta, 0)
        result_size, pos = _delta_size(delta, pos)
        if base_size != len(base):
            return None
        out = bytearray()
        while pos < len(delta):
            op = delta[pos]
            pos += 1
            if op & 0x80:  # copy: which offset/size bytes follow is given by the low 7 bits
                start = length = 0
                for i in range(4):
                    if op & (1 << i):
                        start |= delta[pos] << (8 * i)
                        pos += 1
                for i in range(3):
                    if op & (0x10 << i):
                        length |= delta[pos] << (8 * i)
                        pos += 1
                out += base[start:start + (length or 0x10000)]
            elif op:  # insert the next ``op`` bytes
                out += delta[pos:pos + op]
                pos += op
            else:
                return None  # reserved opcode
    except IndexError:
        return None
    return bytes(out) if len(out) == result_size else None


class ObjectReader:
    def __init__(self, objects_dir: str) -> None:
        self.objects_dir = objects_dir
        self._packs: list[_Pack] | None = None

    def _pack_list(self) -> list[_Pack]:
        if self._packs is None:
            self._packs = []
            pack_dir = os.path.join(self.objects_dir, "pack")
            try:
                names = sorted(os.listdir(pack_dir))
            except OSError:
                names = []
            for idx in (os.path.join(pack_dir, n) for n in names if n.endswith(".idx")):
                try:
                    self._packs.append(_Pack(idx))
                except (OSError, ValueError):
                    continue
        return self._packs

    def read_prefix(self, binary: bytes, limit: int) -> tuple[int, bytes] | None:
        """(type, content) where the content may stop after ``limit`` bytes, for a walk over
        many objects: packs first (as git looks), then the loose object. None when this fast
        reader cannot serve it."""
        for pack in self._pack_list():
            offset = pack.offset_many(binary)
            if offset is not None:
                return pack.read(offset, limit)
        return self.read(binary.hex())

    def read(self, sha: str) -> tuple[int, bytes] | None:
        """(type, content), or None when this fast reader cannot serve it."""
        loose = os.path.join(self.objects_dir, sha[:2], sha[2:])
        try:
            with open(loose, "rb") as f:
                raw = zlib.decompress(f.read())
        except FileNotFoundError:
            pass
        except (OSError, zlib.error):
            return None
        else:
            header, _, body = raw.partition(b"\0")
            kind = _TYPES.get(header.split(b" ", 1)[0])
            return (kind, body) if kind else None
        binary = bytes.fromhex(sha)
        for pack in self._pack_list():
            offset = pack.offset(binary)
            if offset is not None:
                return pack.read(offset)
        return None
