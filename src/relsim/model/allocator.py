"""Keep the C allocator from handing the engine's freed work memory back to the system.

Every week the engine allocates and frees a few hundred temporary arrays of up to a few
hundred kilobytes each (one float64 per purchase is 200 KB at 25 000 purchases a week).
glibc's ``malloc`` gives memory at the top of its heap back to the kernel as soon as more than
its trim threshold (by default 128 KB, raised to twice the largest freed ``mmap`` chunk) lies
free there. The next week's temporaries then fault the same pages in again, and the kernel
zeroes each one first. On the benchmark machine ``perf`` put about 3% of an all-bonds
replication's samples at 100 000 customers in page faults and page clearing; a 64 MiB top pad
made the replication 9% faster on average (4-12%) in 8 paired runs, more than those samples
show (README, "Performance").

``M_TOP_PAD`` asks glibc to take that much more address space whenever the heap grows and to
keep that much free at the top when it trims; ``M_MMAP_THRESHOLD`` keeps blocks up to 32 MB in
that heap (see :data:`MMAP_THRESHOLD_BYTES`). Untouched address space costs no memory, and the
peak resident memory of a run is unchanged (the benchmark measures it); what changes is that
memory already faulted in stays for the next week's temporaries. The setting is process-wide
and set once; on other C libraries (musl, macOS, Windows) nothing is done.
"""

from __future__ import annotations

import ctypes
import sys

M_TOP_PAD = -2
"""glibc's ``mallopt`` parameter number for the top pad (``malloc.h``)."""

TOP_PAD_BYTES = 64 << 20
"""The pad. Enough at 1 000 000 customers: an all-bonds replication's page faults fall from
2.3 million to 91 000 with it (at 100 000 customers, from 79 000 to 6 600)."""

M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter number for the size from which blocks are mapped on their own."""

MMAP_THRESHOLD_BYTES = 32 << 20
"""glibc's largest allowed threshold on 64-bit systems. Setting ``M_TOP_PAD`` also stops glibc
from raising the threshold as it sees large blocks freed (its default behaviour), and a block
above the threshold is mapped for itself and unmapped when freed, which faults it in anew every
time: the pad would not help those. Where the threshold froze depended on what the process had
freed before, so the pad's effect depended on what had been imported (CI's fresh environment
showed it: 15 800 faults instead of none in the allocator test). A fixed threshold makes every
temporary under 32 MB (4 million float64s) come from the padded heap."""

_done: bool | None = None


def keep_freed_memory() -> bool:
    """Set glibc's top pad for this process (once); returns whether it is in effect."""
    global _done
    if _done is None:
        _done = _set_top_pad(TOP_PAD_BYTES)
    return _done


def _set_top_pad(size: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # the threshold first: setting either freezes glibc's dynamic threshold where it stands
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1 and mallopt(M_TOP_PAD, size) == 1
