"""The read-only object reader: loose objects and packs (pack ``.idx`` v1 and v2, pack
versions 2 and 3, delta chains), in the repository and its alternates.

What git checks when it reads, this checks too — and one thing more:

* a loose object inflates completely, with no bytes after its zlib stream (git: "garbage at
  end of loose object"), and its header names a known type and the real size;
* a pack index has a monotonic fanout table and the size its object count implies; the pack
  has git's header, as many objects as its index, and the trailing checksum its index
  records (git: "packfile … does not match index");
* a pack entry has a known type, inflates to exactly its size, and its deltas stay inside
  their base and the size they announce;
* every object read — loose or packed — hashes to the id it was asked for (git checks this
  for the objects it parses; we check it for all, at the cost of one SHA-1 of bytes we have
  just inflated).

Damage becomes one message naming the file (:mod:`.damage`). A missing object is
:class:`~.damage.MissingObject`. As git does, a lookup that fails — or a pack that disappears
under us while ``git repack`` or ``git gc`` runs — is retried once with a fresh list of packs.
"""
from __future__ import annotations

import mmap
import os
import struct
import zlib

from .damage import Corrupt, MissingObject, object_missing, reading
from .files import is_hex_oid, read_regular
from .hashing import builtin_sha1, openssl_sha1
from .varint import offset_varint

_TYPES = {b"commit": 1, b"tree": 2, b"blob": 3, b"tag": 4}
_NAMES = {1: b"commit", 2: b"tree", 3: b"blob", 4: b"tag"}
_OFS_DELTA, _REF_DELTA = 6, 7
_MAX_DELTA_CHAIN = 10_000  # git's own packs stay under a few hundred
_MAX_ALTERNATE_DEPTH = 5  # git's limit
_LARGE = 1 << 16  # from this size on, hashlib's OpenSSL SHA-1 pays for its import
_WINDOW = 48  # rows either side of an id's predicted place (see _Pack._position)
_IDX_V2 = b"\xfftOc\x00\x00\x00\x02"
_PACK_FIX = ("`git fsck` lists the damage; remove the damaged pack and fetch again, or "
             "restore it from a clone")


def sha1(data: bytes) -> bytes:
    """SHA-1 of an object. Small ones without ``import hashlib`` (which loads OpenSSL: a few ms
    on every run); large ones with it (OpenSSL hashes ten times faster than ``_sha1``)."""
    if len(data) >= _LARGE:
        return sha1_large(data)
    digest: bytes = builtin_sha1()(data).digest()
    return digest


def sha1_large(data: bytes | memoryview) -> bytes:
    digest: bytes = openssl_sha1()(data).digest()
    return digest


def find_oid(data: bytes | mmap.mmap, fanout: int, oids: int, sha: bytes,
             stride: int = 20) -> int | None:
    """Position of ``sha`` in a git fanout table + sorted id list (pack idx v2 and the
    commit-graph; idx v1 entries are 24 bytes, the id after a 4-byte offset)."""
    first = sha[0]
    lo: int = struct.unpack_from(">I", data, fanout + 4 * (first - 1))[0] if first else 0
    hi: int = struct.unpack_from(">I", data, fanout + 4 * first)[0]
    while lo < hi:
        mid = (lo + hi) // 2
        probe = data[oids + stride * mid:oids + stride * mid + 20]
        if probe < sha:
            lo = mid + 1
        elif probe > sha:
            hi = mid
        else:
            return mid
    return None


def check_fanout(data: bytes | mmap.mmap, fanout: int) -> int:
    """The object count of a fanout table; Corrupt unless it never decreases (git's check)."""
    counts = struct.unpack_from(">256I", data, fanout)
    if any(b < a for a, b in zip(counts, counts[1:])):
        raise Corrupt("non-monotonic fanout table")
    return int(counts[255])


class _Vanished(Exception):
    """A pack or its index was removed after we listed it (``git repack``, ``git gc``)."""


def _open_listed(path: str) -> int:
    try:
        return os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise _Vanished(path) from None


class _Pack:
    def __init__(self, idx_path: str) -> None:
        self.idx_path = idx_path
        self.pack_path = idx_path[:-4] + ".pack"
        with open(_open_listed(idx_path), "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < 4 * 256 + 40:
                raise Corrupt("too small to be a pack index")
            self.idx = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        idx = self.idx
        if idx[:4] == _IDX_V2[:4]:
            if idx[:8] != _IDX_V2:
                raise Corrupt("pack index version not 2")
            self.version, fanout = 2, 8
        else:
            self.version, fanout = 1, 0
        self.fanout = fanout
        self.count = count = check_fanout(idx, fanout)
        if self.version == 2:
            expected = 8 + 4 * 256 + 40 + count * 28
            if not expected <= size <= expected + max(count - 1, 0) * 8:
                raise Corrupt("its size does not match its object count")
            self.oids = 8 + 256 * 4
        else:
            if size != 4 * 256 + 40 + count * 24:
                raise Corrupt("its size does not match its object count")
            self.oids = 4 * 256 + 4
        self.size = size
        self._fanout: tuple[int, ...] | None = None  # (0, then the v2 fanout: _position)
        self._pack: mmap.mmap | None = None
        self._pack_size = 0

    def _position(self, sha: bytes) -> int | None:
        """``find_oid`` for many look-ups (a history walk asks for thousands): ids are
        uniformly distributed, so the id's first bytes predict its place in the sorted
        table to within a few dozen rows, and one ``bytes.find`` over that window (C speed)
        replaces a dozen Python-level probes."""
        idx, oids = self.idx, self.oids
        first = sha[0]
        fanout = self._fanout
        if fanout is None:
            fanout = self._fanout = (0, *struct.unpack_from(">256I", idx, 8))
        lo: int = fanout[first]
        hi: int = fanout[first + 1]
        guess = lo + ((int.from_bytes(sha[1:4], "big") * (hi - lo)) >> 24)
        start, stop = max(lo, guess - _WINDOW), min(hi, guess + _WINDOW)
        base = oids + 20 * start
        at = idx.find(sha, base, oids + 20 * stop)  # (in the map: no copy of the window)
        while at >= 0:
            if (at - base) % 20 == 0:
                return start + (at - base) // 20
            at = idx.find(sha, at + 1, oids + 20 * stop)  # (a match across two ids)
        if start < stop and sha < idx[base:base + 20]:
            hi = start
        elif start < stop and sha > idx[oids + 20 * stop - 20:oids + 20 * stop]:
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

    def offset(self, sha: bytes, many: bool = False) -> int | None:
        """The pack offset of ``sha``; ``many``: for a caller that asks for many ids (see
        ``_position``)."""
        idx = self.idx
        if self.version == 1:
            pos = find_oid(idx, 0, self.oids, sha, 24)
            return None if pos is None else int(struct.unpack_from(">I", idx, 1024 + 24 * pos)[0])
        pos = self._position(sha) if many else find_oid(idx, 8, self.oids, sha)
        if pos is None:
            return None
        offsets = self.oids + 24 * self.count
        (off,) = struct.unpack_from(">I", idx, offsets + 4 * pos)
        if off & 0x80000000:
            large = offsets + 4 * self.count + 8 * (off & 0x7FFFFFFF)
            if large + 8 > self.size - 40:
                raise Corrupt("a large offset outside its table")
            (off,) = struct.unpack_from(">Q", idx, large)
        return int(off)

    def _open(self) -> mmap.mmap:
        """The pack, mapped and checked as git's ``open_packed_git`` checks it."""
        if self._pack is None:
            with open(_open_listed(self.pack_path), "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size < 32:
                    raise Corrupt("far too short to be a packfile")
                pack = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            if pack[:4] != b"PACK" or struct.unpack_from(">I", pack, 4)[0] not in (2, 3):
                raise Corrupt("not a git packfile (header)")
            if struct.unpack_from(">I", pack, 8)[0] != self.count:
                raise Corrupt("its object count differs from its index's")
            if pack[size - 20:size] != self.idx[self.size - 40:self.size - 20]:
                raise Corrupt("its trailing checksum does not match its index")
            self._pack, self._pack_size = pack, size
        return self._pack

    def read(self, offset: int, limit: int | None = None) -> tuple[int, bytes]:
        """(type, content) of the entry at ``offset``, delta chains resolved. A ref-delta base
        must be in this same pack, as git requires of packs on disk. With ``limit``, an
        undeltified entry is inflated only that far (a commit's header is all a walk needs;
        the caller cannot verify such a prefix, and git does not verify commits in a walk)."""
        pack = self._open()
        end = self._pack_size - 20
        deltas: list[bytes] = []
        for _ in range(_MAX_DELTA_CHAIN):
            if not 12 <= offset < end:
                raise Corrupt("an object offset outside the pack")
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
                if shift > 70:
                    raise Corrupt("an object size that never ends")
            if type_num == _OFS_DELTA:  # base at a backwards offset in this pack
                back, pos = offset_varint(pack, pos)
                if not 0 < back <= offset:
                    raise Corrupt("a delta base offset outside the pack")
                base: int | None = offset - back
            elif type_num == _REF_DELTA:  # base named by id
                base = self.offset(bytes(pack[pos:pos + 20]))
                pos += 20
                if base is None:
                    raise Corrupt("a delta whose base is not in the pack")
            elif type_num in _NAMES:
                if limit is not None and not deltas and limit < size:
                    return type_num, self._inflate(pos, size, end, limit)
                data = self._inflate(pos, size, end)
                for delta in reversed(deltas):
                    data = apply_delta(data, delta)
                return type_num, data
            else:
                raise Corrupt(f"an object of unknown type {type_num}")
            deltas.append(self._inflate(pos, size, end))
            assert base is not None
            offset = base
        raise Corrupt("a delta chain that never ends")

    def _inflate(self, pos: int, size: int, end: int, limit: int | None = None) -> bytes:
        """Exactly ``size`` bytes from the zlib stream at ``pos``, and the stream ends there
        (with ``limit``: only the first ``limit`` of them)."""
        assert self._pack is not None
        pack = self._pack
        d = zlib.decompressobj()
        if limit is not None:  # (zlib stops there)
            head = d.decompress(pack[pos:min(pos + limit + 64, end)], limit)
            return head if len(head) == limit else self._inflate(pos, size, end)
        pieces: list[bytes] = []
        got = 0
        pending = b""
        read = pos
        while not d.eof:
            if not pending:
                if read >= end:
                    raise Corrupt("an entry cut short")
                step = size + 64 + size // 8 if read == pos else 65536
                pending = pack[read:min(read + step, end)]
                read += len(pending)
            piece = d.decompress(pending, size + 1 - got)  # one byte more shows an overrun
            pending = d.unconsumed_tail
            got += len(piece)
            pieces.append(piece)
            if got > size:
                raise Corrupt("an entry larger than its size")
        if got != size:
            raise Corrupt("an entry smaller than its size")
        return b"".join(pieces)

    def close(self) -> None:
        self.idx.close()
        if self._pack is not None:
            self._pack.close()


def _delta_size(delta: bytes, pos: int) -> tuple[int, int]:
    size = shift = 0
    while True:
        c = delta[pos]
        pos += 1
        size |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return size, pos


def apply_delta(base: bytes, delta: bytes) -> bytes:
    """git's delta format (copy ranges of the base, insert literal bytes), checked as
    ``patch_delta`` checks it. Corrupt on any inconsistency."""
    try:
        base_size, pos = _delta_size(delta, 0)
        result_size, pos = _delta_size(delta, pos)
        if base_size != len(base):
            raise Corrupt("a delta for a base of another size")
        out = bytearray()
        n = len(delta)
        while pos < n:
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
                length = length or 0x10000
                if start + length > len(base) or len(out) + length > result_size:
                    raise Corrupt("a delta that copies outside its base")
                out += base[start:start + length]
            elif op:  # insert the next ``op`` bytes
                if pos + op > n or len(out) + op > result_size:
                    raise Corrupt("a delta that inserts past its end")
                out += delta[pos:pos + op]
                pos += op
            else:
                raise Corrupt("a delta with the reserved opcode 0")
    except IndexError:
        raise Corrupt("a truncated delta") from None
    if len(out) != result_size:
        raise Corrupt("a delta whose result is not the size it announces")
    return bytes(out)


def _loose(path: str, sha: str) -> tuple[int, bytes] | None:
    """A loose object, fully checked; None when there is no such file."""
    with reading(path, f"loose object {sha}"):
        data = read_regular(path)
        if data is None:
            return None
        d = zlib.decompressobj()
        raw = d.decompress(data)
        if not d.eof:
            raise Corrupt("its compressed data ends early")
        if d.unused_data:
            raise Corrupt("garbage at end of loose object")
        header, nul, body = raw.partition(b"\0")
        kind, _, size = header.partition(b" ")
        type_num = _TYPES.get(kind)
        if not nul or type_num is None or not size.isdigit() or int(size) != len(body):
            raise Corrupt("its header is not '<type> <size>'")
        if sha1(raw).hex() != sha:
            raise Corrupt("hash mismatch: its content is not the object its name says")
        return type_num, body


def _alternates(objects_dir: str, depth: int, seen: set[str]) -> list[str]:
    """``info/alternates``: one object folder a line (relative to this one), recursively."""
    if depth >= _MAX_ALTERNATE_DEPTH:
        return []  # git warns "nesting too deep" and goes on without them
    path = os.path.join(objects_dir, "info", "alternates")
    folders: list[str] = []
    with reading(path, "alternates file"):
        try:
            data = read_regular(path)
        except IsADirectoryError:
            raise Corrupt("a folder, not a file") from None
        for line in (data or b"").decode("utf-8", "surrogateescape").split("\n"):
            line = line.strip("\r")
            if not line or line.startswith("#"):
                continue
            if line.startswith('"'):
                line = _unquote(line)
            folders.append(os.path.normpath(os.path.join(objects_dir, line)))
    found: list[str] = []
    for alt in folders:
        if alt in seen:
            continue
        seen.add(alt)
        if not os.path.isdir(alt):
            continue  # git warns and goes on without it
        found.append(alt)
        found += _alternates(alt, depth + 1, seen)
    return found


_C_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
              "v": "\v", "\\": "\\", '"': '"'}


def _unquote(text: str) -> str:
    """git's ``unquote_c_style`` for a quoted alternates line."""
    out = bytearray()
    i = 1
    while i < len(text):
        c = text[i]
        if c == '"':
            return out.decode("utf-8", "surrogateescape")
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in _C_ESCAPES:
                out += _C_ESCAPES[nxt].encode()
                i += 2
                continue
            digits = text[i + 1:i + 4]
            if len(digits) == 3 and all(d in "01234567" for d in digits) and digits < "400":
                out.append(int(digits, 8))
                i += 4
                continue
            break
        out += c.encode("utf-8", "surrogateescape")
        i += 1
    raise Corrupt("a quoted path that does not end")


class ObjectReader:
    def __init__(self, objects_dir: str) -> None:
        self.objects_dir = objects_dir
        self._dirs: list[str] | None = None
        self._packs: list[_Pack] | None = None
        self._pack_names: set[str] = set()

    def _object_dirs(self) -> list[str]:
        if self._dirs is None:
            main = os.path.abspath(self.objects_dir)
            dirs = [main]
            env = os.environ.get("GIT_ALTERNATE_OBJECT_DIRECTORIES")
            seen = {main}
            dirs += _alternates(main, 0, seen)
            for alt in (env.split(os.pathsep) if env else ()):
                alt = os.path.abspath(alt)
                if alt not in seen and os.path.isdir(alt):
                    seen.add(alt)
                    dirs.append(alt)
            self._dirs = dirs
        return self._dirs

    def _listed_packs(self) -> list[str]:
        names = []
        for objects in self._object_dirs():
            pack_dir = os.path.join(objects, "pack")
            try:
                listing = sorted(os.listdir(pack_dir))
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as e:
                from .damage import damaged

                raise damaged(pack_dir, "pack folder", e.strerror or "unreadable") from None
            present = set(listing)
            names += [os.path.join(pack_dir, n) for n in listing
                      if n.endswith(".idx") and n[:-4] + ".pack" in present]
        return names

    def _pack_list(self) -> list[_Pack]:
        if self._packs is None:
            packs = []
            names = self._listed_packs()
            for idx in names:
                try:
                    with reading(idx, "pack index", _PACK_FIX):
                        packs.append(_Pack(idx))
                except _Vanished:
                    continue  # removed since the listing (a repack): git skips it too
            self._packs = packs
            self._pack_names = set(names)
        return self._packs

    def _refresh(self) -> bool:
        """Re-read the pack list if it changed (git's ``reprepare_packed_git``)."""
        if set(self._listed_packs()) == self._pack_names:
            return False
        for pack in self._packs or ():
            pack.close()
        self._packs = None
        return True

    def _find(self, sha: str) -> tuple[int, bytes] | None:
        binary = bytes.fromhex(sha)
        for pack in self._pack_list():
            with reading(pack.idx_path, "pack index", _PACK_FIX):
                offset = pack.offset(binary)
            if offset is None:
                continue
            with reading(pack.pack_path, "pack", _PACK_FIX):
                type_num, data = pack.read(offset)
                if sha1(b"%s %d\0" % (_NAMES[type_num], len(data)) + data) != binary:
                    raise Corrupt(f"hash mismatch: the entry for {sha} is another object")
            return type_num, data
        for objects in self._object_dirs():
            found = _loose(os.path.join(objects, sha[:2], sha[2:]), sha)
            if found is not None:
                return found
        return None

    def read(self, sha: str) -> tuple[int, bytes]:
        """(type, content) of a full hex object id, verified; MissingObject when absent."""
        if not is_hex_oid(sha):
            raise object_missing(sha)
        for attempt in (1, 2):
            try:
                found = self._find(sha)
            except _Vanished as e:  # a pack removed under us (git repack, git gc)
                if attempt == 2 or not self._refresh():
                    from .damage import damaged

                    raise damaged(str(e), "pack", "it disappeared while it was read; rerun "
                                  "when `git gc`/`git repack` is done") from None
                continue
            if found is not None:
                return found
            if attempt == 1 and not self._refresh():
                break  # no pack came or went: it is really not there
        raise object_missing(sha)

    def read_prefix(self, binary: bytes, limit: int) -> tuple[int, bytes] | None:
        """(type, content) where the content may stop after ``limit`` bytes, for a walk over
        many objects: packs first (as git looks), then the whole (verified) loose object; None
        when it is missing (the caller names the commit)."""
        for pack in self._pack_list():
            with reading(pack.idx_path, "pack index", _PACK_FIX):
                offset = pack.offset(binary, many=True)
            if offset is not None:
                try:
                    with reading(pack.pack_path, "pack", _PACK_FIX):
                        return pack.read(offset, limit)
                except _Vanished:
                    break  # (read() retries with a fresh list of packs)
        try:
            return self.read(binary.hex())
        except MissingObject:
            return None

    def commit_head(self, binary: bytes, limit: int) -> bytes | None:
        """The start of a commit stored whole (not as a delta) in a v2-indexed pack, through
        the line after its committer line (or all of it, up to ``limit`` bytes), for a
        history walk that reads thousands: one pass without the general path's layers. None
        wherever the general path must answer (not in a pack, a delta, another type, a
        header longer than ``limit``, a large offset, or anything odd, which that path then
        names): ``read_prefix`` finds the same entry."""
        try:
            for pack in self._packs if self._packs is not None else self._pack_list():
                if pack.version != 2:
                    return None
                pos = pack._position(binary)
                if pos is None:
                    continue
                (offset,) = struct.unpack_from(">I", pack.idx, pack.oids + 24 * pack.count +
                                               4 * pos)
                data = pack._pack if pack._pack is not None else pack._open()
                end = pack._pack_size - 20
                if offset & 0x80000000 or not 12 <= offset < end:
                    return None
                c = data[offset]
                if (c >> 4) & 7 != 1:
                    return None
                size = c & 15
                shift = 4
                at = offset + 1
                while c & 0x80 and shift < 64:
                    c = data[at]
                    at += 1
                    size |= (c & 0x7F) << shift
                    shift += 7
                if c & 0x80:
                    return None
                d = zlib.decompressobj()
                src = data[at:min(at + limit + 64, end)]
                if size <= limit:  # all of it, checked as the general path checks it
                    whole: bytes = d.decompress(src, size + 1)
                    return whole if d.eof and len(whole) == size else None
                # Inflated as far as the line after "committer": nearly every header ends
                # within 320 bytes (git/git: all of 17,000 within 292); else on to ``limit``.
                head: bytes = d.decompress(src, 320)
                for _ in range(2):
                    i = head.find(b"\ncommitter ")
                    j = head.find(b"\n", i + 1) if i >= 0 else -1
                    if 0 <= j < len(head) - 1:
                        return head
                    if len(head) >= limit:
                        break
                    head += d.decompress(d.unconsumed_tail, limit - len(head))
                return None
        except Exception:  # (the general path reports it, in its words)
            return None
        return None

    def contains(self, sha: str) -> bool:
        """Whether the repository holds the object (not read, not verified)."""
        binary = bytes.fromhex(sha)
        for attempt in (1, 2):
            for pack in self._pack_list():
                with reading(pack.idx_path, "pack index", _PACK_FIX):
                    if pack.offset(binary) is not None:
                        return True
            if any(os.path.exists(os.path.join(objects, sha[:2], sha[2:]))
                   for objects in self._object_dirs()):
                return True
            if attempt == 1 and not self._refresh():
                return False
        return False
