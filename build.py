"""Build the course: `python build.py --help`."""

import gc

# No cyclic collection while the command line's modules load (they make no garbage; the
# collector ran 23 times, 2.4 ms, before a small course's parse could start): `cli.run` turns
# it back on (for a build, once its library is loaded: `cli._loading`).
gc.disable()

# Records' methods and patterns' programs run from what earlier commands compiled (as modules
# from .pyc files): installed by the command line, before any of them is made, and not by
# importing the package, which leaves a program using it as it found `dataclasses` and `re`.
from course import compiled  # noqa: E402

compiled.install()

from course.cli import run  # noqa: E402

if __name__ == "__main__":
    run()
