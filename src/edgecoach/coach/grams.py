"""A compact table of n-grams of token ids, each with the situations of the lines that have it.

`NgramSupport` asks two things of it: which tokens may follow a context of n-1 ids, and
whether each n-gram of a line may be said, in a situation that admits some of the group's
lines (a bit mask, bit i for the group's i-th situation). Python dicts of tuples held
17 MB for the shipped corpus (84,000 n-grams); here an n-gram is a fixed-size row of bytes
in a sorted numpy array, found by binary search, and its lines' situations a row of
packed bits shared by the n-grams that have the same (about 3 MB in all).
"""

from dataclasses import dataclass

import numpy as np

# Token ids as big-endian uint32 bytes: rows sort as their id tuples do, so the n-grams
# that share a context are adjacent, between (context, 0) and (context, LAST_ID).
ID_TYPE = np.dtype(">u4")
LAST_ID = 2**32 - 1  # above every real id: no n-gram has it
WORD = np.dtype("<u8")  # situation bits, 64 to a word, lowest first


def id_bytes(ids: list[int]) -> bytes:
    return np.array(ids, dtype=ID_TYPE).tobytes()


def gram_keys(line: bytes, n: int) -> list[bytes]:
    """The n-grams of a line's `id_bytes`."""
    width = n * ID_TYPE.itemsize
    return [line[start:start + width]
            for start in range(0, len(line) - width + 1, ID_TYPE.itemsize)]


def packed(mask: int, words: int) -> np.ndarray:
    """The low `words` * 64 bits of a mask as an array of words."""
    low = mask & ((1 << 64 * words) - 1)
    return np.frombuffer(low.to_bytes(words * WORD.itemsize, "little"), dtype=WORD)


@dataclass(frozen=True)
class GramTable:
    """Sorted n-gram rows, and for each the index of its situation bits in `situations`."""

    n: int
    keys: np.ndarray  # void rows of n ids
    situation_index: np.ndarray  # int32, per row
    situations: np.ndarray  # (distinct masks, words) of WORD

    @classmethod
    def build(cls, n: int, masks_by_key: dict[bytes, int]) -> "GramTable":
        row = np.dtype((np.void, n * ID_TYPE.itemsize))
        keys = np.frombuffer(b"".join(masks_by_key), dtype=row)
        order = np.argsort(keys, kind="stable")
        distinct = {mask: i for i, mask in enumerate(dict.fromkeys(masks_by_key.values()))}
        index = np.fromiter((distinct[mask] for mask in masks_by_key.values()),
                            dtype=np.int32, count=len(masks_by_key))
        words = max(1, -(-max(distinct).bit_length() // 64))
        situations = np.zeros((len(distinct), words), dtype=WORD)
        for mask, i in distinct.items():
            situations[i] = packed(mask, words)
        return cls(n, keys[order], index[order], situations)

    def items(self) -> dict[bytes, int]:
        """Every n-gram's row bytes and mask: to build a larger table from this one."""
        data, width = self.keys.tobytes(), self.keys.dtype.itemsize
        masks = [int.from_bytes(row.tobytes(), "little") for row in self.situations]
        return {data[row * width:(row + 1) * width]: masks[index]
                for row, index in enumerate(self.situation_index.tolist())}

    def _said(self, rows: np.ndarray | slice, admitted: int) -> np.ndarray:
        """For each of these rows: have lines of an admitted situation its n-gram?"""
        bits = packed(admitted, self.situations.shape[1])
        return (self.situations[self.situation_index[rows]] & bits).any(axis=1)

    def followers(self, context: list[int], admitted: int) -> list[int]:
        """The ids that follow these n-1 ids in the admitted situations' lines."""
        bounds = np.array([[*context, 0], [*context, LAST_ID]], dtype=ID_TYPE)
        low, high = np.searchsorted(self.keys, bounds.view(self.keys.dtype).ravel()).tolist()
        following = self.keys[low:high].view(ID_TYPE).reshape(-1, self.n)[:, -1]
        return following[self._said(slice(low, high), admitted)].tolist()

    def supported(self, ids: list[int], admitted: int) -> list[bool]:
        """For each n-gram of the ids in turn: is it in the admitted situations' lines?"""
        grams = np.frombuffer(b"".join(gram_keys(id_bytes(ids), self.n)), dtype=self.keys.dtype)
        rows = np.minimum(np.searchsorted(self.keys, grams), len(self.keys) - 1)
        return ((self.keys[rows] == grams) & self._said(rows, admitted)).tolist()
