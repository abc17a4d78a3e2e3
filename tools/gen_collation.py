"""Generate ``ayjnt_hooks/engine/collation.bin``: ICU 78's root collation, as Bun 1.4.5 uses it.

ayjnt sorts agents with JavaScript ``localeCompare``: ICU root collation, tertiary strength,
normalization on. Bun 1.4.5 bundles ICU 78 (Unicode 17); so does ``icu4py`` 1.2.0's wheel, whose
shared libraries this script calls through ``ctypes`` (icu4py itself has no collation API, and
it is needed only here, at development time):

    pip install icu4py==1.2.0
    python tools/gen_collation.py           # rewrite the artifact
    python tools/gen_collation.py --check   # exit 1 if the artifact differs from ICU's data

What it records, for :mod:`ayjnt_hooks.engine.collation`:

* the canonical combining class of every code point that has one, and the full canonical
  decomposition (NFD) of every code point that has one (Hangul syllables excepted: they
  decompose by formula), so normalisation does not depend on Python's ``unicodedata`` version;
* the collation elements (primary, secondary, tertiary without case bits) ICU gives each code
  point, except Hangul syllables (their jamo's, checked) and the code points whose element is
  ICU's formula for unassigned code points (most of the code space);
* every contraction (a sequence with elements of its own, such as Thai ``เก``) as ICU stores
  it, and every prefix rule (a character whose elements depend on the one before it);
* the elements of the 128 ASCII characters, written into ``collation.py`` itself so that an
  ASCII name never loads the table.

The output is deterministic: the same ICU gives the same bytes.
"""
from __future__ import annotations

import argparse
import ctypes
import glob
import importlib.util
import json
import os
import re
import sys
import zlib
from array import array
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARTIFACT = os.path.join(ROOT, "ayjnt_hooks", "engine", "collation.bin")
MODULE = os.path.join(ROOT, "ayjnt_hooks", "engine", "collation.py")
ICU_VERSION = "78.3"  # Bun 1.4.5's (its binary embeds icudt78l; Intl reports 78.3)
UNICODE_VERSION = "17.0"
TERTIARY_MASK = 0x3F3F  # ICU's ONLY_TERTIARY_MASK: case bits are ignored when caseFirst is off
UCOL_NORMALIZATION_MODE, UCOL_ON = 4, 17


class ICU:
    """The few ICU4C functions needed, from icu4py's bundled libraries."""

    def __init__(self) -> None:
        spec = importlib.util.find_spec("icu4py")
        if spec is None or not spec.submodule_search_locations:
            sys.exit("icu4py is not installed: pip install icu4py==1.2.0")
        libs = os.path.join(os.path.dirname(next(iter(spec.submodule_search_locations))),
                            "icu4py.libs")
        major = ICU_VERSION.split(".")[0]

        def lib(name: str) -> ctypes.CDLL:
            found = sorted(glob.glob(os.path.join(libs, f"lib{name}-*.so.{ICU_VERSION}")))
            if not found:
                sys.exit(f"no lib{name} {ICU_VERSION} in {libs}: pip install icu4py==1.2.0")
            return ctypes.CDLL(found[0], mode=ctypes.RTLD_GLOBAL)

        uc, i18n = lib("icuuc"), lib("icui18n")

        def fn(where: ctypes.CDLL, name: str, res: Any, *args: Any) -> Any:
            f = getattr(where, f"{name}_{major}")
            f.restype, f.argtypes = res, list(args)
            return f

        p, i32, err = ctypes.c_void_p, ctypes.c_int32, ctypes.POINTER(ctypes.c_int)
        self._err = ctypes.c_int(0)
        self._open = fn(i18n, "ucol_open", p, ctypes.c_char_p, err)
        self._set_attribute = fn(i18n, "ucol_setAttribute", None, p, ctypes.c_int,
                                 ctypes.c_int, err)
        self._strcoll = fn(i18n, "ucol_strcoll", ctypes.c_int, p, p, i32, p, i32)
        self._open_elements = fn(i18n, "ucol_openElements", p, p, p, i32, err)
        self._set_text = fn(i18n, "ucol_setText", None, p, p, i32, err)
        self._next = fn(i18n, "ucol_next", i32, p, err)
        self._contractions = fn(i18n, "ucol_getContractionsAndExpansions", None, p, p, p,
                                ctypes.c_byte, err)
        self._uset_open = fn(uc, "uset_open", p, i32, i32)
        self._uset_count = fn(uc, "uset_getItemCount", i32, p)
        self._uset_item = fn(uc, "uset_getItem", i32, p, i32, ctypes.POINTER(i32),
                             ctypes.POINTER(i32), p, i32, err)
        self.combining_class = fn(uc, "u_getCombiningClass", ctypes.c_uint8, i32)
        self._nfd = fn(uc, "unorm2_getNFDInstance", p, err)(ctypes.byref(self._err))
        self._decomposition = fn(uc, "unorm2_getDecomposition", i32, p, i32, p, i32, err)
        version = (ctypes.c_uint8 * 4)()
        fn(uc, "u_getUnicodeVersion", None, p)(version)
        self.unicode_version = f"{version[0]}.{version[1]}"
        fn(uc, "u_getVersion", None, p)(version)
        self.icu_version = f"{version[0]}.{version[1]}"
        # JavaScriptCore's Intl.Collator for "en-US" (= root) sets normalization on.
        self.coll = self._open(b"en_US", ctypes.byref(self._err))
        self._set_attribute(self.coll, UCOL_NORMALIZATION_MODE, UCOL_ON,
                            ctypes.byref(self._err))
        self._check()
        self._iter = self._open_elements(self.coll, None, 0, ctypes.byref(self._err))
        self._check()

    def _check(self) -> None:
        if self._err.value > 0:
            sys.exit(f"ICU error {self._err.value}")

    @staticmethod
    def _utf16(s: str) -> tuple[ctypes.Array[ctypes.c_char], int]:
        b = s.encode("utf-16-le", "surrogatepass")
        return ctypes.create_string_buffer(b, len(b) + 2), len(b) // 2

    def strcoll(self, a: str, b: str) -> int:
        (ba, la), (bb, lb) = self._utf16(a), self._utf16(b)
        return int(self._strcoll(self.coll, ba, la, bb, lb))

    def elements(self, s: str) -> list[tuple[int, int, int]]:
        """ICU's collation elements for ``s``: (primary, secondary, tertiary & 0x3f3f), the
        all-zero (completely ignorable) ones dropped. ``ucol_next`` returns each 64-bit
        element as two old-style 32-bit halves; they are put back together here."""
        buf, n = self._utf16(s)
        self._set_text(self._iter, buf, n, ctypes.byref(self._err))
        self._check()
        out: list[list[int]] = []
        while True:
            half = self._next(self._iter, ctypes.byref(self._err)) & 0xFFFFFFFF
            if half == 0xFFFFFFFF:  # UCOL_NULLORDER
                break
            if (half & 0xC0) == 0xC0 and out:  # continuation: low halves of the weights
                out[-1][0] |= half >> 16
                out[-1][1] |= (half >> 8) & 0xFF
                out[-1][2] |= half & 0x3F
            else:
                out.append([half & 0xFFFF0000, ((half >> 8) & 0xFF) << 8, (half & 0xFF) << 8])
        self._check()
        return [(p, s2, t & TERTIARY_MASK) for p, s2, t in out if (p, s2, t & TERTIARY_MASK)
                != (0, 0, 0)]

    def contraction_strings(self, prefixes: bool) -> list[str]:
        contractions, expansions = self._uset_open(1, 0), self._uset_open(1, 0)
        self._contractions(self.coll, contractions, expansions, int(prefixes),
                           ctypes.byref(self._err))
        self._check()
        buf = (ctypes.c_uint16 * 256)()
        out = []
        for i in range(self._uset_count(contractions)):
            a, b = ctypes.c_int32(), ctypes.c_int32()
            length = self._uset_item(contractions, i, ctypes.byref(a), ctypes.byref(b), buf,
                                     256, ctypes.byref(self._err))
            self._check()
            if length == 0:
                sys.exit("ICU listed a contraction range; this generator expects strings")
            out.append(bytes(buf)[:length * 2].decode("utf-16-le", "surrogatepass"))
        return sorted(out)

    def nfd(self, cp: int) -> str | None:
        buf = (ctypes.c_uint16 * 64)()
        err = ctypes.c_int(0)
        n = self._decomposition(self._nfd, cp, buf, 64, ctypes.byref(err))
        return None if n < 0 else bytes(buf)[:n * 2].decode("utf-16-le", "surrogatepass")


def unassigned_primary(cp: int) -> int:
    """ICU's ``Collation::unassignedPrimaryFromCodePoint``."""
    cp += 1
    primary = 2 + (cp % 18) * 14
    cp //= 18
    primary |= (2 + (cp % 254)) << 8
    cp //= 254
    primary |= (4 + (cp % 251)) << 16
    return primary | (0xFE << 24)


COMMON = 0x0500
HANGUL = range(0xAC00, 0xD7A4)


def collect(icu: ICU) -> dict[str, Any]:
    cccs: dict[int, int] = {}
    decompositions: dict[int, str] = {}
    elements: dict[int, list[tuple[int, int, int]]] = {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # unpaired surrogates: ICU's unassigned formula, as below
        ccc = icu.combining_class(cp)
        if ccc:
            cccs[cp] = ccc
        nfd = icu.nfd(cp)
        if cp in HANGUL:
            continue  # collated as its jamo, by formula (checked below)
        if nfd is not None and nfd != chr(cp):
            decompositions[cp] = nfd
        ces = icu.elements(chr(cp))
        if ces != [(unassigned_primary(cp), COMMON, COMMON)]:
            elements[cp] = ces
    for cp in HANGUL:  # ICU's HANGUL_TAG: the elements of the jamo, one after the other
        jamo = icu.nfd(cp) or ""
        if icu.elements(chr(cp)) != [ce for j in jamo for ce in elements[ord(j)]]:
            sys.exit(f"Hangul syllable {cp:#x} is not collated as its jamo")
    plain = icu.contraction_strings(False)
    if any(0x1100 <= ord(s[0]) <= 0x11FF for s in plain):
        sys.exit("a contraction starts with a jamo; the Hangul formula would miss it")
    # Every contraction as ICU stores it, canonical-closure variants (precomposed forms)
    # included: on FCD text ICU matches the text as it is, without normalising it.
    contractions = {s: icu.elements(s) for s in plain}
    # With prefixes, ICU also lists "prefix + character" for a character whose elements
    # depend on the one before it (root: U+00B7 MIDDLE DOT after l or L, for Catalan "l·l").
    prefixes = {}
    for s in sorted(set(icu.contraction_strings(True)) - set(plain)):
        before, char = s[:-1], s[-1]
        ces, head = icu.elements(s), icu.elements(before)
        if len(before) != 1 or ces[:len(head)] != head or char in "".join(plain):
            sys.exit(f"prefix rule {s!r}: the runtime handles one-character prefixes of a "
                     f"character that is in no contraction")
        prefixes[s] = ces[len(head):]
    return {"cccs": cccs, "decompositions": decompositions, "elements": elements,
            "contractions": contractions, "prefixes": prefixes}


def _columns(ce_lists: list[list[tuple[int, int, int]]]) -> tuple[array, array, array, array]:
    counts, p, s, t = array("B"), array("I"), array("H"), array("H")
    for ces in ce_lists:
        counts.append(len(ces))
        for a, b, c in ces:
            p.append(a)
            s.append(b)
            t.append(c)
    return counts, p, s, t


def _deltas(values: list[int]) -> array:
    out, prev = array("q"), 0
    for v in values:
        out.append(v - prev)
        prev = v
    return out


def encode(data: dict[str, Any]) -> bytes:
    """Header line (JSON: versions, then each section's type code and length), then the
    sections, little-endian, zlib-compressed. Sorted code points and primaries are stored as
    deltas (they compress far better); the loader adds them back up."""
    sections: list[tuple[str, array]] = []
    ccc_cps = sorted(data["cccs"])
    sections += [("ccc_cp", _deltas(ccc_cps)), ("ccc", array("B", [data["cccs"][c]
                                                                   for c in ccc_cps]))]
    dec_cps = sorted(data["decompositions"])
    dec = [data["decompositions"][c] for c in dec_cps]
    sections += [("dec_cp", _deltas(dec_cps)), ("dec_len", array("B", map(len, dec))),
                 ("dec", array("I", [ord(c) for d in dec for c in d]))]
    ce_cps = sorted(data["elements"])
    counts, p, s, t = _columns([data["elements"][c] for c in ce_cps])
    sections += [("ce_cp", _deltas(ce_cps)), ("ce_n", counts), ("ce_p", _deltas(list(p))),
                 ("ce_s", s), ("ce_t", t)]
    con = sorted(data["contractions"])
    counts, p, s, t = _columns([data["contractions"][k] for k in con])
    sections += [("con_len", array("B", map(len, con))),
                 ("con", array("I", [ord(c) for k in con for c in k])),
                 ("con_n", counts), ("con_p", p), ("con_s", s), ("con_t", t)]
    pre = sorted(data["prefixes"])
    counts, p, s, t = _columns([data["prefixes"][k] for k in pre])
    sections += [("pre", array("I", [ord(c) for k in pre for c in k])),
                 ("pre_n", counts), ("pre_p", p), ("pre_s", s), ("pre_t", t)]
    body = b""
    for _, arr in sections:
        if sys.byteorder == "big":
            arr = array(arr.typecode, arr)
            arr.byteswap()
        body += arr.tobytes()
    header = {"icu": ICU_VERSION, "unicode": UNICODE_VERSION,
              "sections": [[name, arr.typecode, len(arr)] for name, arr in sections]}
    return (json.dumps(header, separators=(",", ":")).encode() + b"\n"
            + zlib.compress(body, 9))


def ascii_block(data: dict[str, Any]) -> str:
    """The generated block of ``collation.py``: each ASCII character's weights."""
    rows = []
    for cp in range(128):
        ces = data["elements"].get(cp, [(unassigned_primary(cp), COMMON, COMMON)])
        if len(ces) > 1:
            sys.exit(f"ASCII {cp:#x} has {len(ces)} elements; the ASCII path assumes one")
        text = "None" if not ces else "(0x{:08X}, 0x{:04X}, 0x{:04X})".format(*ces[0])
        rows.append(f"    {text},  # {chr(cp)!r}")
    for key in [*data["contractions"], *data["prefixes"]]:
        if key.isascii():
            sys.exit(f"contraction {key!r} is all ASCII; the ASCII path assumes none")
    if any(cp < 128 for cp in data["cccs"]) or any(cp < 128 for cp in data["decompositions"]):
        sys.exit("an ASCII character has a combining class or a decomposition")
    return ("# BEGIN GENERATED by tools/gen_collation.py: (primary, secondary, tertiary) of\n"
            "# each ASCII character, None for a completely ignorable one.\n"
            "_ASCII_ELEMENTS = (\n" + "\n".join(rows) + "\n)\n# END GENERATED\n")


_BLOCK = re.compile(r"# BEGIN GENERATED.*?# END GENERATED\n", re.S)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the checked-in artifact instead of writing it")
    args = parser.parse_args(argv)
    icu = ICU()
    if (icu.icu_version, icu.unicode_version) != (ICU_VERSION, UNICODE_VERSION):
        sys.exit(f"ICU {icu.icu_version} / Unicode {icu.unicode_version}: expected "
                 f"{ICU_VERSION} / {UNICODE_VERSION}")
    data = collect(icu)
    blob = encode(data)
    with open(MODULE, encoding="utf-8") as f:
        module = f.read()
    new_module = _BLOCK.sub(lambda _: ascii_block(data), module)
    if args.check:
        with open(ARTIFACT, "rb") as f:
            same = f.read() == blob and new_module == module
        print("collation.bin and collation.py match ICU" if same else
              "collation.bin or collation.py differs from ICU's data: rerun without --check")
        return 0 if same else 1
    with open(ARTIFACT, "wb") as f:
        f.write(blob)
    with open(MODULE, "w", encoding="utf-8") as f:
        f.write(new_module)
    print(f"wrote {ARTIFACT} ({len(blob):,} bytes): {len(data['elements']):,} code points, "
          f"{len(data['contractions']):,} contractions, {len(data['prefixes'])} prefix rules, "
          f"{len(data['decompositions']):,} "
          f"decompositions, {len(data['cccs']):,} combining classes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
