"""ICU 78's collation iterator, step by step, for the names where its path matters.

:mod:`ayjnt_hooks.engine.collation` collates almost every name from its NFD-like text in one
pass. That is exact while ICU's iterator never backs up across a segment it normalised. It does
back up when a segment that fails ICU's FCD check (combining marks out of canonical order)
stands next to a contraction or a prefix rule: then what it reads depends on where it turned
round, and its elements differ from those of the normalised text. This module reproduces that
path; it is imported only for such a name.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # what this module reads of collation's objects (it does not import it)
    from collections.abc import Mapping
    from typing import Protocol

    Elements = list[tuple[int, int, int]]

    class _Contractions(Protocol):
        full: dict[tuple[int, ...], Elements]
        partial: set[tuple[int, ...]]
        trailing_ccc: bool
        next_ccc: bool

    class _Collator(Protocol):
        lccc: dict[int, int]
        tccc: dict[int, int]
        lead_lccc: set[int]
        lead_tccc: set[int]
        @property
        def contractions(self) -> Mapping[int, _Contractions]: ...
        prefixes: dict[int, dict[int, Elements]]

        def own(self, cp: int) -> Elements: ...

        def _decompose(self, cps: list[int]) -> list[int]: ...

# ICU 78 has no limit on discontiguous-contraction matching (later versions stop at 2,400
# steps with U_INPUT_TOO_LONG_ERROR); ours is only a guard for the time a check may take.
_STEP_LIMIT = 200_000


class _Skipped:
    """ICU's ``SkippedState``: the marks a discontiguous contraction stepped over."""

    __slots__ = ("at_match", "new", "old", "pos", "state")

    def __init__(self) -> None:
        self.old: list[int] = []  # marks skipped by an earlier match, read before the text
        self.new: list[int] = []  # marks skipped by the match under way
        self.pos = 0  # index in ``old``, or past it: code points read beyond it
        self.at_match = 0  # len(new) at the last match
        self.state: tuple[int, ...] | None = ()  # the suffix-trie state to retry from

    def back(self, n: int) -> int:
        """Step back ``n`` code points; return how many of them were read from the text."""
        beyond = self.pos - len(self.old)
        if beyond > 0:
            if beyond >= n:
                self.pos -= n
                return n
            self.pos = max(0, len(self.old) - (n - beyond))
            return beyond
        self.pos = max(0, self.pos - n)
        return 0

    def replace_match(self) -> None:
        self.old = self.new[:self.at_match] + self.old[min(self.pos, len(self.old)):]
        self.pos = 0


class Iterator:
    """ICU 78's forward collation iterator over a string that fails the FCD check next to a
    contraction or a prefix rule: ``FCDUTF16CollationIterator`` (UTF-16 code units, the
    segments it normalises, and how it turns round at their edges) under
    ``CollationIterator``'s contraction, discontiguous-contraction and prefix matching.

    Written from ICU's ``utf16collationiterator.cpp`` and ``collationiterator.cpp`` step by
    step, so that every backward and forward move reads what ICU's reads: once ICU has
    normalised a segment and backs up out of it, it reads the raw text before it, and going
    forward again it may normalise a different span. That is where ICU's elements for such a
    string differ from those of its NFD, and why the plain path (``_Collator.collate`` on
    ``fcd_text``) cannot be used here. ``tests/engine/test_collation.py`` checks the result
    against ICU's own elements and against Bun's order.
    """

    def __init__(self, collator: _Collator, s: str) -> None:
        self.c = collator
        raw = s.encode("utf-16-le", "surrogatepass")
        self.raw = [raw[i] | raw[i + 1] << 8 for i in range(0, len(raw), 2)]
        self.norm: list[int] = []
        self.in_norm = False  # start, pos and limit index ``norm``, not ``raw``
        self.start = self.pos = self.seg_start = 0
        self.limit = self.raw_limit = len(self.raw)
        self.seg_limit = -1  # ICU's nullptr
        self.check_dir = 1
        self.skipped: _Skipped | None = None
        self.loops = 0
        self.out: Elements = []

    # --- CollationFCD and the normalizer's FCD values ---------------------------------------

    def has_lccc(self, u: int) -> bool:
        if 0xD800 <= u <= 0xDFFF:
            return u >= 0xDC00 or u in self.c.lead_lccc  # every trail surrogate: yes
        return u in self.c.lccc

    def has_tccc(self, u: int) -> bool:
        if 0xD800 <= u <= 0xDFFF:
            return u < 0xDC00 and u in self.c.lead_tccc
        return u in self.c.tccc

    def may_have_lccc(self, cp: int) -> bool:
        if cp > 0xFFFF:
            return 0xD7C0 + (cp >> 10) in self.c.lead_lccc
        return cp in self.c.lccc

    def fcd16(self, cp: int) -> int:
        return self.c.lccc.get(cp, 0) << 8 | self.c.tccc.get(cp, 0)

    def next_fcd16(self, p: int) -> tuple[int, int]:
        raw, u = self.raw, self.raw[p]
        if 0xD800 <= u < 0xDC00 and p + 1 < self.raw_limit and 0xDC00 <= raw[p + 1] <= 0xDFFF:
            return self.fcd16(0x10000 + ((u - 0xD800) << 10) + raw[p + 1] - 0xDC00), p + 2
        return self.fcd16(u), p + 1

    def previous_fcd16(self, p: int) -> tuple[int, int]:
        raw, u = self.raw, self.raw[p - 1]
        if 0xDC00 <= u <= 0xDFFF and p - 1 > 0 and 0xD800 <= raw[p - 2] < 0xDC00:
            return self.fcd16(0x10000 + ((raw[p - 2] - 0xD800) << 10) + u - 0xDC00), p - 2
        return self.fcd16(u), p - 1

    # --- FCDUTF16CollationIterator --------------------------------------------------------

    def buf(self) -> list[int]:
        return self.norm if self.in_norm else self.raw

    def next_cp(self) -> int:
        while True:
            if self.check_dir > 0:
                if self.pos == self.limit:
                    return -1
                u = self.raw[self.pos]
                self.pos += 1
                if self.has_tccc(u) and ((u & 0x1FFF01) == 0xF01 or (
                        self.pos != self.limit and self.has_lccc(self.raw[self.pos]))):
                    self.pos -= 1
                    self.next_segment()
                    u = self.buf()[self.pos]
                    self.pos += 1
                break
            if self.check_dir == 0 and self.pos != self.limit:
                u = self.buf()[self.pos]
                self.pos += 1
                break
            self.switch_to_forward()
        b = self.buf()
        if 0xD800 <= u < 0xDC00 and self.pos != self.limit and 0xDC00 <= b[self.pos] <= 0xDFFF:
            self.pos += 1
            return 0x10000 + ((u - 0xD800) << 10) + b[self.pos - 1] - 0xDC00
        return u

    def previous_cp(self) -> int:
        while True:
            if self.check_dir < 0:
                if self.pos == self.start:
                    return -1
                self.pos -= 1
                u = self.raw[self.pos]
                if self.has_lccc(u) and ((u & 0x1FFF01) == 0xF01 or (
                        self.pos != self.start and self.has_tccc(self.raw[self.pos - 1]))):
                    self.pos += 1
                    self.previous_segment()
                    self.pos -= 1
                    u = self.buf()[self.pos]
                break
            if self.check_dir == 0 and self.pos != self.start:
                self.pos -= 1
                u = self.buf()[self.pos]
                break
            self.switch_to_backward()
        b = self.buf()
        if 0xDC00 <= u <= 0xDFFF and self.pos != self.start and 0xD800 <= b[self.pos - 1] < 0xDC00:
            self.pos -= 1
            return 0x10000 + ((b[self.pos] - 0xD800) << 10) + u - 0xDC00
        return u

    def forward(self, n: int) -> None:
        while n > 0 and self.next_cp() >= 0:
            n -= 1

    def backward(self, n: int) -> None:
        while n > 0 and self.previous_cp() >= 0:
            n -= 1

    def switch_to_forward(self) -> None:
        if self.check_dir < 0:  # turn round from checking backward
            self.start = self.seg_start = self.pos
            if self.pos == self.seg_limit:
                self.limit = self.raw_limit
                self.check_dir = 1
            else:
                self.check_dir = 0  # stay in the FCD segment
            return
        if self.in_norm or self.start != self.seg_start:  # leave a normalised segment
            self.in_norm = False
            self.pos = self.start = self.seg_start = self.seg_limit
        self.limit = self.raw_limit
        self.check_dir = 1

    def switch_to_backward(self) -> None:
        if self.check_dir > 0:  # turn round from checking forward
            self.limit = self.seg_limit = self.pos
            if self.pos == self.seg_start:
                self.start = 0
                self.check_dir = -1
            else:
                self.check_dir = 0
            return
        if self.in_norm or self.start != self.seg_start:  # leave a normalised segment
            self.in_norm = False
            self.pos = self.limit = self.seg_limit = self.seg_start
        self.start = 0
        self.check_dir = -1

    def next_segment(self) -> None:
        p, prev_cc = self.pos, 0
        while True:
            q = p
            fcd, p = self.next_fcd16(p)
            lead = fcd >> 8
            if lead == 0 and q != self.pos:
                self.limit = self.seg_limit = q  # an FCD boundary before q
                break
            if lead and (prev_cc > lead or fcd in (0x8182, 0x8184)):
                while True:  # fails the FCD check: normalise up to the next boundary
                    q = p
                    if p == self.raw_limit:
                        break
                    fcd, p = self.next_fcd16(p)
                    if fcd <= 0xFF:
                        break
                self.normalize(self.pos, q)
                self.pos = 0
                break
            prev_cc = fcd & 0xFF
            if p == self.raw_limit or prev_cc == 0:
                self.limit = self.seg_limit = p
                break
        self.check_dir = 0

    def previous_segment(self) -> None:
        p, next_cc = self.pos, 0
        while True:
            q = p
            fcd, p = self.previous_fcd16(p)
            trail = fcd & 0xFF
            if trail == 0 and q != self.pos:
                self.start = self.seg_start = q  # an FCD boundary after q
                break
            if trail and ((next_cc and trail > next_cc) or fcd in (0x8182, 0x8184)):
                while True:  # fails: normalise back to the previous boundary
                    q = p
                    if fcd <= 0xFF or p == 0:
                        break
                    fcd, p = self.previous_fcd16(p)
                    if fcd == 0:
                        break
                self.normalize(q, self.pos)
                self.pos = self.limit
                break
            next_cc = fcd >> 8
            if p == 0 or next_cc == 0:
                self.start = self.seg_start = p
                break
        self.check_dir = 0

    def normalize(self, frm: int, to: int) -> None:
        units = self.raw[frm:to]
        text = "".join(map(chr, units)).encode("utf-16-le", "surrogatepass").decode(
            "utf-16-le", "surrogatepass")
        nfd = "".join(map(chr, self.c._decompose([ord(ch) for ch in text])))
        b = nfd.encode("utf-16-le", "surrogatepass")
        self.norm = [b[i] | b[i + 1] << 8 for i in range(0, len(b), 2)]
        self.in_norm = True
        self.seg_start, self.seg_limit = frm, to
        self.start, self.limit = 0, len(self.norm)

    # --- CollationIterator ----------------------------------------------------------------

    def count(self) -> None:
        self.loops += 1
        if self.loops >= _STEP_LIMIT:
            raise NoEnd

    def next_skipped(self) -> int:
        sk = self.skipped
        if sk is not None and sk.pos < len(sk.old):
            sk.pos += 1
            return sk.old[sk.pos - 1]
        cp = self.next_cp()
        if sk is not None and sk.old and cp >= 0:
            sk.pos += 1
        return cp

    def back_skipped(self, n: int) -> None:
        if self.skipped is not None and self.skipped.old:
            n = self.skipped.back(n)
        self.backward(n)

    def run(self) -> Elements:
        seen: set[tuple[object, ...]] = set()
        while True:
            # The whole iterator state between two code points (no skipped marks are pending
            # here). If it comes back, ICU 78 never reaches the end of the text: it repeats the
            # same elements for ever (a discontiguous match backs up across a segment it
            # normalised and lands before the letter it started from).
            state = (self.pos, self.in_norm, self.check_dir, self.start, self.limit,
                     self.seg_start, self.seg_limit, tuple(self.norm) if self.in_norm else ())
            if state in seen:
                raise NoEnd
            seen.add(state)
            cp = self.next_cp()
            if cp < 0:
                return self.out
            self.append(cp)

    def append(self, cp: int) -> None:
        """``appendCEsFromCE32`` for code point ``cp``'s own data."""
        rules = self.c.prefixes.get(cp)
        if rules is not None:
            self.backward(1)
            before = self.previous_cp()
            found = rules.get(before) if before >= 0 else None
            self.forward(1 if before >= 0 else 0)
            self.forward(1)
            self.out += found if found is not None else self.c.own(cp)
            return
        con = self.c.contractions.get(cp)
        if con is None:
            self.out += self.c.own(cp)
            return
        default = self.c.own(cp)
        nxt = self.next_skipped()
        if nxt < 0:
            self.out += default
            return
        if con.next_ccc and not self.may_have_lccc(nxt):
            self.back_skipped(1)
            self.out += default
            return
        found = self.contraction(con, default, nxt)
        if found is not None:
            self.out += found

    @staticmethod
    def step(con: _Contractions, state: tuple[int, ...] | None, cp: int
             ) -> tuple[tuple[int, ...] | None, bool, bool]:
        """UCharsTrie.nextForCodePoint: the new state, has a value, has a continuation."""
        if state is None:
            return None, False, False
        state = (*state, cp)
        value, more = state in con.full, state in con.partial
        return (state if value or more else None), value, more

    def contraction(self, con: _Contractions, ce: Elements, cp: int) -> Elements | None:
        """``nextCE32FromContraction``; None when the elements are already appended."""
        look_ahead = since_match = 1
        if self.skipped is not None and self.skipped.old:
            self.skipped.state = ()
        state, value, more = self.step(con, (), cp)
        while True:
            self.count()
            if value:
                assert state is not None
                ce = con.full[state]
                if not more:
                    return ce
                cp = self.next_skipped()
                if cp < 0:
                    return ce
                if self.skipped is not None and self.skipped.old:
                    self.skipped.state = state
                since_match = 1
            elif not more or (nxt := self.next_skipped()) < 0:
                # no match (or a partial one at the end): back up, try a discontiguous one
                if con.trailing_ccc:
                    if since_match > 1:
                        self.back_skipped(since_match)
                        cp = self.next_skipped()
                        look_ahead -= since_match - 1
                        since_match = 1
                    if cp in self.c.lccc:
                        return self.discontiguous(con, ce, look_ahead, cp)
                break
            else:
                cp = nxt
                since_match += 1
            look_ahead += 1
            state, value, more = self.step(con, state, cp)
        self.back_skipped(since_match)
        return ce

    def discontiguous(self, con: _Contractions, ce: Elements, look_ahead: int, cp: int
                      ) -> Elements | None:
        """``nextCE32FromDiscontiguousContraction`` (UCA S2.1.1-S2.1.3)."""
        self.count()
        fcd = self.fcd16(cp)
        nxt = self.next_skipped()
        if nxt < 0:
            self.back_skipped(1)
            return ce
        look_ahead += 1
        prev_cc = fcd & 0xFF
        fcd = self.fcd16(nxt)
        if fcd <= 0xFF:  # a starter follows
            self.back_skipped(2)
            return ce
        sk = self.skipped
        if sk is None or not sk.old:
            if sk is None:
                sk = self.skipped = _Skipped()
            state: tuple[int, ...] | None = ()
            if look_ahead > 2:  # replay the partial match so far, reading the text again
                self.backward(look_ahead)
                state = self.step(con, (), self.next_cp())[0]
                for _ in range(3, look_ahead):
                    state = self.step(con, state, self.next_cp())[0]
                self.forward(2)
            sk.state = state
        else:
            state = sk.state
        sk.new, sk.at_match = [cp], 0
        since_match = 2
        cp = nxt
        while True:
            self.count()
            found = False
            if prev_cc < fcd >> 8:
                new_state, value, more = self.step(con, state, cp)
                if value:
                    assert new_state is not None
                    state, ce, found = new_state, con.full[new_state], True
                    since_match = 0
                    sk.at_match = len(sk.new)
                    if not more:
                        break
                    sk.state = state
            if not found:
                sk.new.append(cp)
                state = sk.state
                prev_cc = fcd & 0xFF
            cp = self.next_skipped()
            if cp < 0:
                break
            since_match += 1
            fcd = self.fcd16(cp)
            if fcd <= 0xFF:
                break
        self.back_skipped(since_match)
        top = not sk.old
        sk.replace_match()
        if not (top and sk.old):
            return ce
        # Matched after skipping marks: the contraction's elements, then the skipped marks'
        # (a skipped mark can start a contraction of its own, which may skip marks in turn).
        self.out += ce
        while True:
            self.count()
            if sk.pos >= len(sk.old):
                break
            sk.pos += 1
            self.append(sk.old[sk.pos - 1])
        sk.old, sk.pos = [], 0
        return None


class NoEnd(Exception):
    """ICU's iterator would not reach the end of the text."""
