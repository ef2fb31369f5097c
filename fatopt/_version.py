"""The single place the fatopt version is written (read by pyproject and the cache tag)."""
__version__ = "0.1.0"
