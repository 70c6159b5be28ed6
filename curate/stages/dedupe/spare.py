"""Arrays grown by appending, in spare room kept after them (`similarity.extend`).

The variant passes' lookup (`similarity.PairFeatures`) gains a few percent of entries at
each full pass after the first; concatenating copied all of its ~6M entries each time
(~20 ms a pass at a million records). Room left unwritten costs no memory: the pages of
`np.empty` are only mapped when first written.
"""

from __future__ import annotations

import numpy as np


def appended(olds: tuple, news: tuple, room: tuple | None) -> tuple[tuple, tuple]:
    """Each old array followed by its new one, as views of buffers with room to spare, and
    those buffers (the room to pass on). `room`: the buffers the old arrays are the start of,
    or None (new buffers, 1/32 larger than needed: at 1M records the full passes after the
    second add ~0.2%). The caller gives the room up: only one array of a buffer may grow
    into it, or two would write the same place."""
    n, m = olds[0].size, news[0].size
    if room is None or room[0].size < n + m:
        size = n + m + (n + m) // 32
        room = tuple(np.empty(size, dtype=a.dtype) for a in olds)
        for buffer, old in zip(room, olds, strict=True):
            buffer[:n] = old
    for buffer, new in zip(room, news, strict=True):
        buffer[n : n + m] = new
    return tuple(buffer[: n + m] for buffer in room), room
