"""Who runs a sync, and whether that process is still there: what lets a later sync close dead runs.

A sync records its host and process id on its run. A run left "running" by a process that died
(kill -9, an OOM kill, a container torn down) is closed as "abandoned" by the next sync: at once when
the dead process was on this host, and on any host once the run is older than a live sync can be.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from okrbridge.store import Store

ABANDON_AFTER_DEADLINES = 2
"""A run still "running" this many sync deadlines after its start has no live process behind it
(a live sync stops asking Jira at its deadline and then only stores what it has)."""


@dataclass(frozen=True)
class RunOwner:
    """The host and process a sync runs in."""

    host: str
    pid: int


def this_process() -> RunOwner:
    """The owner of a sync started now, in this process."""
    return RunOwner(host=socket.gethostname(), pid=os.getpid())


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (signal 0 tests without sending)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def close_abandoned_runs(store: Store, owner: RunOwner, *, now: datetime,
                         deadline_seconds: float) -> list[int]:
    """Close the runs whose process is gone (see the module docstring); return their ids."""
    def alive(pid: int) -> bool:
        """This very process is alive (another of its threads may be syncing); others are looked up."""
        return pid == owner.pid or process_alive(pid)

    cutoff = now - timedelta(seconds=ABANDON_AFTER_DEADLINES * deadline_seconds)
    return store.close_abandoned_runs(host=owner.host, is_alive=alive, started_before=cutoff, now=now)
