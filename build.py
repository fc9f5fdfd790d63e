"""Build the course: `python build.py --help`."""

from course.cli import run

if __name__ == "__main__":
    run()
