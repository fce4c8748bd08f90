"""A compact table of n-grams of token ids, each with the situations of the lines that have it.

`NgramSupport` asks two things of it: which tokens may follow a context of n-1 ids, and
whether each n-gram of a line may be said, in a situation that admits some of the group's
lines (a bit mask, bit i for the group's i-th situation). Python dicts of tuples held
17 MB for the shipped corpus (84,000 n-grams); here an n-gram is one int, its ids packed,
in a sorted array found by binary search, with the index of its situations' mask among
the group's distinct masks (2.7 MB with the rest of the support). Lookups stay in plain
Python: numpy's overhead per call (tried first) cost more than a bisection of the keys.
"""

from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class GramTable:
    """Sorted packed n-grams, and for each the index of its mask in `masks`."""

    n: int
    bits: int  # per id in a key
    keys: Sequence[int]  # array("q"); a list when n ids do not fit in 63 bits
    mask_index: array  # per key
    # The distinct masks, each `mask_bytes` long (little-endian): bit i, the group's i-th
    # situation has lines with the n-gram. One bytes object, not an int per mask, so that
    # nothing small outlives the build scattered among its freed objects.
    masks: bytes
    mask_bytes: int

    @classmethod
    def build(cls, n: int, bits: int, masks_by_key: dict[int, int]) -> "GramTable":
        """The table of n-grams packed with `bits` per id (`packed`), with their masks."""
        keys = sorted(masks_by_key)
        distinct = {mask: i for i, mask in enumerate(dict.fromkeys(masks_by_key.values()))}
        width = (max(distinct).bit_length() + 7) // 8
        return cls(n, bits, array("q", keys) if n * bits < 64 else keys,
                   array("I", (distinct[masks_by_key[key]] for key in keys)),
                   b"".join(mask.to_bytes(width, "little") for mask in distinct), width)

    def mask(self, row: int) -> int:
        start = self.mask_index[row] * self.mask_bytes
        return int.from_bytes(self.masks[start:start + self.mask_bytes], "little")

    def grams(self) -> Iterator[tuple[tuple[int, ...], int]]:
        """Every n-gram's ids and mask: to build a larger table from this one."""
        low = (1 << self.bits) - 1
        for row, key in enumerate(self.keys):
            ids = tuple((key >> self.bits * (self.n - 1 - i)) & low for i in range(self.n))
            yield ids, self.mask(row)

    def followers(self, context: Sequence[int], admitted: int) -> list[int]:
        """The ids that follow these n-1 ids in the lines of the admitted situations."""
        if max(context) >> self.bits:
            return []  # an id newer than the table: nothing follows it
        first = packed(context, self.bits) << self.bits
        end = first + (1 << self.bits)
        following = []
        row = bisect_left(self.keys, first)
        while row < len(self.keys) and self.keys[row] < end:  # most contexts have one or two
            if self.mask(row) & admitted:
                following.append(self.keys[row] - first)
            row += 1
        return following

    def supported(self, ids: Sequence[int], admitted: int) -> list[bool]:
        """For each n-gram of the ids in turn: is it in the lines of the admitted situations?"""
        said = []
        for end in range(self.n, len(ids) + 1):
            gram = ids[end - self.n:end]
            key = -1 if any(i >> self.bits for i in gram) else packed(gram, self.bits)
            row = bisect_left(self.keys, key)
            said.append(row < len(self.keys) and self.keys[row] == key
                        and bool(self.mask(row) & admitted))
        return said


def packed(ids: Sequence[int], bits: int) -> int:
    """The ids as one int, the first in the highest bits: keys sort as the id tuples do."""
    key = 0
    for i in ids:
        key = key << bits | i
    return key
