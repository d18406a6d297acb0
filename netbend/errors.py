"""The one place input errors are worded.

A :class:`NetbendError` carries a single line that says what is wrong and where
(file, entry, key). The command line prints it and exits with code 2; library
callers catch it like any exception.
"""
from __future__ import annotations

import difflib
from typing import Iterable


class NetbendError(Exception):
    """A user-facing error: one line naming what is wrong and where."""

    exit_code = 2


def closest(name: str, choices: Iterable[str]) -> str:
    """Return "; did you mean 'x'?" for the closest choice, or ''."""
    match = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.5)
    return f"; did you mean '{match[0]}'?" if match else ""


class NetbendWarning(UserWarning):
    """Input that works but is probably not what was meant (e.g. an unknown top-level plan key).

    The command line prints it as one line, ``netbend: warning: ...``, and carries on.
    """


def warn(message: str) -> None:
    """Issue a :class:`NetbendWarning` (one line naming what and where)."""
    import warnings

    warnings.warn(message, NetbendWarning, stacklevel=2)


def fail(message: str) -> None:
    """Raise a :class:`NetbendError` (never prints, never carries on)."""
    raise NetbendError(message)


def run_script(main, prog: str | None = None) -> None:
    """Run a script's ``main()``; a :class:`NetbendError` becomes one line on stderr and exit code 2
    (what the command line does), not a traceback. For ``benchmarks/`` and user scripts."""
    import os
    import sys

    try:
        main()
    except NetbendError as err:
        name = prog or os.path.basename(sys.argv[0]) or "netbend"
        print(f"{name}: error: {err}", file=sys.stderr)
        sys.exit(err.exit_code)
