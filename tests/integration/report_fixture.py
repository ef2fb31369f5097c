"""A small project for the ``fatopt report`` tests: a package with a config module, a module
whose functions get every outcome, a module that opts out, and a script that flips a module
constant so that a specialization is invalidated and comes back."""

from __future__ import annotations

from pathlib import Path

from .helpers import write

CONFIG = """
DEBUG = False
"""

CORE = '''
"""Shapes and helpers. A docstring with </script><img src=x onerror="alert(1)"> and a < b."""
SCALE = 10

def area(width, height):
    return width * height * SCALE

def label():
    return "<b>" + str(len("abcd")) + "</b>"

def local_constant():
    n = 4
    return n * 3

class Box:
    @staticmethod
    def size(n):
        return n + 1
'''

DYNAMIC = """
def dynamic(code):
    exec(code)
    return 1
"""

LEGACY = """
__fatopt__ = {"enabled": False}

def old():
    return len("abc")
"""

MAIN = """
import sys
from app import core, dynamic, legacy
import textwrap  # a standard-library module: not the program's own

print("area", core.area(2, 3))
core.SCALE = 100  # breaks area's guard on SCALE: invalidated
print("area", core.area(2, 3))
core.SCALE = 10  # and back: revalidated
print("area", core.area(2, 3), core.label(), core.Box.size(1), core.local_constant(), dynamic.dynamic("pass"))
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""


def make_project(directory: Path) -> Path:
    write(directory, "app/__init__.py", "")
    write(directory, "app/config.py", CONFIG)
    write(directory, "app/core.py", CORE)
    write(directory, "app/dynamic.py", DYNAMIC)
    write(directory, "app/legacy.py", LEGACY)
    write(directory, "main.py", MAIN)
    return directory
