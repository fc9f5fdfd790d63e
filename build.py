"""Build the course: `python build.py --help`."""

import gc

# No cyclic collection while the command line's modules load (they make no garbage; the
# collector ran 23 times, 2.4 ms, before a small course's parse could start): `cli.run` turns
# it back on (for a build, once its library is loaded: `cli._loading`).
gc.disable()

from course.cli import run  # noqa: E402

if __name__ == "__main__":
    run()
