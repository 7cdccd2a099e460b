"""Stopping a run cleanly on SIGINT (Ctrl-C) or SIGTERM: after the step in progress."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any


class StopOnSignal:
    """While active, SIGINT and SIGTERM ask ``run`` (a :class:`~dvzero.runs.run.Run`) to
    stop after the current step. ``announce(name)`` is called from the signal handler while
    training is under way, to say at once that the signal was heard (a numerical step can
    take many seconds); it must be safe there (no buffered printing). A second signal gets
    the default behaviour back: Ctrl-C twice ends at once, and the files stay whole, since
    every write is atomic. :attr:`received` names the signal.
    """

    def __init__(self, run: Any, announce: Callable[[str], None] | None = None) -> None:
        self.run, self.announce = run, announce
        self.received: str | None = None
        self.previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        self.received = signal.Signals(signum).name
        self.run.request_stop()
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        trainer = self.run.trainer
        if self.announce is not None and trainer.next_step < trainer.step_num:
            self.announce(self.received)

    def __enter__(self) -> StopOnSignal:
        for number in (signal.SIGINT, signal.SIGTERM):
            self.previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)
