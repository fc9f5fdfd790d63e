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
def paused(freeze: bool = False) -> Iterator[None]:
    """No cyclic collection inside; the collector as it was afterwards, whatever happens. A
    decorator too (`@paused()`). `freeze`: when the collector was running, what lives when the
    block ends successfully is moved out of its sight first (`gc.freeze`: for records that live
    as long as a large build, in a process that ends with it), else the collector's first run
    afterwards walks every object made inside, and its later full runs walk them again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        if freeze and was_enabled:
            gc.freeze()
    finally:
        if was_enabled:
            gc.enable()
