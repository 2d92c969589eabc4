"""How numpy asks the kernel for memory; read by numpy once, when it is imported.

numpy asks Linux for 2 MiB pages (``madvise(MADV_HUGEPAGE)``) for arrays of
4 MiB or more. On virtual machines whose host backs the guest's memory only
when it is first touched, each such page then costs milliseconds: on the
project's 2-core test machine a 250,000-node, 1 M-cell audit spent 16.9 s of
its 44.8 s in the kernel, against 3.2 s of 22.2 s with ordinary 4 KiB pages
(docs/performance.md). The command line therefore asks numpy for ordinary
pages unless ``NUMPY_MADVISE_HUGEPAGE`` is already set: ``NUMPY_MADVISE_HUGEPAGE=1``
restores numpy's default.
"""

from __future__ import annotations

import os

HUGEPAGE_ENV = "NUMPY_MADVISE_HUGEPAGE"


def prefer_small_pages() -> None:
    """Ask numpy (imported after this call, here or in a child process) for ordinary 4 KiB pages, unless the
    user chose otherwise with ``NUMPY_MADVISE_HUGEPAGE``.
    """
    os.environ.setdefault(HUGEPAGE_ENV, "0")
