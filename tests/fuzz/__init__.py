"""Differential fuzzing: generated modules run plain and optimized must behave the same.

``generator`` builds small whole modules as source text (module constants, functions using them,
and a driver that calls the functions and rebinds builtins and globals between and during calls);
``runner`` executes a module both ways and compares what it printed and how it failed. The oracle
is plain CPython: no expected result is written down anywhere.
"""
