"""The cyclic garbage collector paused while a stage makes many objects and no reference cycles.

Loading lessons and the deck stages make a few objects per card and free almost none until the
build ends: the collector would walk the growing heap again and again (a quarter of the load's
CPU, 40% of the plan's at 100,000 cards). Reference counting still frees what they drop.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside; the collector as it was afterwards, whatever happens. A
    decorator too (`@paused()`)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
