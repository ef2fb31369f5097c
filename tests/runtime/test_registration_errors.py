"""A registration that fails half-way reports its own error, and leaves nothing behind."""

import subprocess
import sys
import textwrap

import pytest


def test_failure_after_the_specialization_is_made_keeps_its_exception():
    # With warnings as errors, "no free watcher id" becomes an exception raised once the
    # specialization object exists; tearing it down must not swallow it (it once surfaced as
    # SystemError: returned NULL without setting an exception).
    pytest.importorskip("_testcapi")
    code = textwrap.dedent(
        """
        import _testcapi, warnings
        try:
            while True:
                _testcapi.add_type_watcher(0)
        except RuntimeError:
            pass
        import fatopt
        from fatopt.guards import GuardTypeAttr
        class C:
            def m(self):
                return 1
        def plain():
            return C().m()
        def fast():
            return 1
        warnings.simplefilter("error")
        try:
            fatopt.register(fast, plain, [GuardTypeAttr(C, "m")])
        except Exception as exc:
            print(type(exc).__name__, "no free" in str(exc))
        print(fatopt.get_specialized(fast), fast())
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["RuntimeWarning True", "[] 1"]
