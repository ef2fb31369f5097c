"""Builds the C guard runtime, but only where it can work (CPython 3.12+).

On older interpreters or other implementations the package installs without the
extension and ``import fatopt`` reports why optimization is unavailable.
"""
import platform
import sys

from setuptools import Extension, setup

ext_modules = []
if sys.version_info >= (3, 12) and platform.python_implementation() == "CPython":
    ext_modules.append(
        Extension(
            "fatopt._guards",
            sources=["fatopt/_guards.c"],
            extra_compile_args=["-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter",
                                "-Wno-missing-field-initializers"],
        )
    )

setup(ext_modules=ext_modules)
