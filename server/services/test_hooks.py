"""A pause point for tests that kill the server at an exact moment (tests/server/test_crash_recovery.py).

With `NUANXIN_TEST_STOP_AT` set to a point's name in the server process's environment, the
process stops itself (SIGSTOP) the first time a batch with changes reaches that point; the test,
its parent, sees it stop and kills it there. Points: "before_commit" (the batch is written,
not committed) and "after_commit" (committed, not answered). Read at the call, not through Settings: it is not a
setting of the app, and nothing but a test sets it.
"""

from __future__ import annotations

import os
import signal

_stopped: set[str] = set()


def pause_at(point: str, has_changes: bool) -> None:
    if os.environ.get("NUANXIN_ENV") == "production":  # never, whatever else the environment holds
        return
    if has_changes and point not in _stopped and os.environ.get("NUANXIN_TEST_STOP_AT") == point:
        _stopped.add(point)
        os.kill(os.getpid(), signal.SIGSTOP)
