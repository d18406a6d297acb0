"""A render loop apart from the interface: the newest state wins, nothing queues.

The server hands every accepted state to :meth:`RenderLoop.submit`; one worker thread renders
whichever state is newest when it becomes free and drops the ones that were overtaken meanwhile.
"""
from __future__ import annotations

import threading
from typing import Any, Callable


class RenderLoop:
    """One worker thread; ``render(job)`` runs on it, ``done(job, result_or_error)`` after."""

    def __init__(self, render: Callable[[Any], Any], done: Callable[[Any, Any, BaseException | None], None]):
        self._render, self._done = render, done
        self._cond = threading.Condition()
        self._pending: Any = None
        self._stop = False
        self.rendered = 0
        self.dropped = 0
        self.busy = False
        self._thread = threading.Thread(target=self._run, name="netbend-render", daemon=True)
        self._thread.start()

    def submit(self, job: Any) -> None:
        """Make ``job`` the next one to render, replacing (dropping) any job still waiting."""
        with self._cond:
            if self._pending is not None:
                self.dropped += 1
            self._pending = job
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                job, self._pending = self._pending, None
                self.busy = True
            try:
                result, error = self._render(job), None
            except Exception as err:  # reported to the page; the loop keeps running
                result, error = None, err
            with self._cond:
                self.busy = False
                self.rendered += 1
            self._done(job, result, error)
