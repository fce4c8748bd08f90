"""A compact table of n-grams of token ids, each with the situations of the lines that have it.

`NgramSupport` asks two things of it: which tokens follow a context of n-1 ids (and in
which situations), and whether each n-gram of a line is in it. Python dicts of tuples
held 17 MB for the shipped corpus (84,000 n-grams); here an n-gram is one fixed-size
row of bytes in a sorted numpy array, found by binary search (about 2 MB).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# Token ids as big-endian uint32 bytes: rows sort as their id tuples do, so the n-grams
# that share a context are adjacent, between (context, 0) and (context, LAST_ID).
ID_TYPE = np.dtype(">u4")
LAST_ID = 2**32 - 1  # above every real id: no n-gram has it


def gram_keys(ids: Sequence[int], n: int) -> bytes:
    """The n-grams of an id sequence, each n * 4 bytes, concatenated."""
    windows = sliding_window_view(np.asarray(ids, dtype=ID_TYPE), n)
    return np.ascontiguousarray(windows).tobytes()


@dataclass(frozen=True)
class GramTable:
    """Sorted n-gram rows and, for each, an index into the distinct situation masks."""

    n: int
    keys: np.ndarray  # void rows of n ids
    mask_index: np.ndarray  # int32, per row
    masks: tuple[int, ...]  # bit i: the group's i-th situation has lines with the n-gram

    @classmethod
    def build(cls, n: int, masks_by_key: dict[bytes, int]) -> "GramTable":
        row = np.dtype((np.void, n * ID_TYPE.itemsize))
        keys = np.frombuffer(b"".join(masks_by_key), dtype=row)
        order = np.argsort(keys, kind="stable")
        distinct = {mask: i for i, mask in enumerate(dict.fromkeys(masks_by_key.values()))}
        index = np.fromiter((distinct[mask] for mask in masks_by_key.values()),
                            dtype=np.int32, count=len(masks_by_key))
        return cls(n, keys[order], index[order], tuple(distinct))

    def items(self) -> Iterable[tuple[bytes, int]]:
        """(row bytes, mask) of every n-gram: to build a larger table from this one."""
        data, width = self.keys.tobytes(), self.keys.dtype.itemsize
        for row, index in enumerate(self.mask_index.tolist()):
            yield data[row * width:(row + 1) * width], self.masks[index]

    def followers(self, context: Sequence[int]) -> list[tuple[int, int]]:
        """(next id, mask) of the n-grams that start with these n-1 ids."""
        bounds = np.array([[*context, 0], [*context, LAST_ID]], dtype=ID_TYPE)
        low, high = np.searchsorted(self.keys, bounds.view(self.keys.dtype).ravel()).tolist()
        following = self.keys[low:high].view(ID_TYPE).reshape(-1, self.n)[:, -1]
        return [(token, self.masks[index]) for token, index
                in zip(following.tolist(), self.mask_index[low:high].tolist(), strict=True)]

    def masks_of(self, ids: Sequence[int]) -> list[int]:
        """The mask of each n-gram of the id sequence in turn, 0 where it is not in the table."""
        found = np.frombuffer(gram_keys(ids, self.n), dtype=self.keys.dtype)
        rows = np.minimum(np.searchsorted(self.keys, found), len(self.keys) - 1)
        present = (self.keys[rows] == found).tolist()
        return [self.masks[index] if hit else 0
                for hit, index in zip(present, self.mask_index[rows].tolist(), strict=True)]
