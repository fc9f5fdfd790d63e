"""Build the course: `python build.py --help`."""

from course.cli import main

if __name__ == "__main__":
    main()
