"""``fatopt report``: what fatopt does to a project, per module and function.

- :mod:`fatopt.report.collect` optimizes each file (as the import hook would) and gathers the
  outcome of every function, with its guards and the reason it was left alone;
- :mod:`fatopt.report.run` runs a program under fatopt and reads back from it which modules it
  imported and how its specializations fared (invalidations, revalidations);
- :mod:`fatopt.report.as_text`, :mod:`fatopt.report.as_json` and :mod:`fatopt.report.as_html`
  write the result for people, for programs (a versioned schema, docs/report.md), and as one
  self-contained web page;
- :mod:`fatopt.report.command` is the command itself (fatopt.cli parses its arguments).
"""

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py
