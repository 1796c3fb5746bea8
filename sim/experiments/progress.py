"""The one progress bar: :func:`progress_bar` builds every tqdm bar of batches, validation and calibration.

Library functions take ``progress``: ``True`` for a bar on standard error, ``False`` or
``None`` for none, or a callable ``progress(n)`` called with each finished count (e.g. the
``update`` of a bar the caller owns).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Progress = bool | Callable[[int], Any] | None


def progress_bar(total: int, unit: str = "run", enabled: bool = True) -> Any:
    """Return a tqdm bar on standard error counting ``total`` ``unit``s (a silent one if not ``enabled``)."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        unit=unit,
        desc=f"{unit}s",
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.1,
        disable=not enabled,
    )


@contextmanager
def counting(progress: Progress, total: int, unit: str) -> Iterator[Callable[[int], Any]]:
    """Yield a function to call with each finished count: the caller's, a new bar's, or a no-op."""
    if callable(progress):
        yield progress
        return
    bar = progress_bar(total, unit, enabled=bool(progress))
    try:
        yield bar.update
    finally:
        bar.close()
