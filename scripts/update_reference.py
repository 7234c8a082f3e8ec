#!/usr/bin/env python3
"""Regenerate the configuration reference in README.md from the binary's
option tables (`collector help reference`). `--check` exits 1 if stale."""
import subprocess
import sys
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- BEGIN REFERENCE (generated: make docs) -->", "<!-- END REFERENCE -->"


def main():
    binary = os.path.join(os.environ.get("COLLECTOR_BUILD", os.path.join(ROOT, "build")), "collector")
    ref = subprocess.run([binary, "help", "reference"], capture_output=True, text=True,
                         check=True).stdout
    readme_path = os.path.join(ROOT, "README.md")
    text = open(readme_path).read()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    new = text[:start] + "\n" + ref + text[end:]
    if "--check" in sys.argv:
        if new != text:
            print("README.md reference is stale: run `make docs`", file=sys.stderr)
            return 1
        return 0
    if new != text:
        open(readme_path, "w").write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
