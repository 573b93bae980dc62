"""Which of the daemons sharing a database leads: the lease holder, renewed in the background.

A `Leadership` keeps the daemon's claim on the store's leader lease (`okrbridge.store.lease`):
a background thread renews it every third of the lease period while leading, and tries to take
it every tenth while standing by. Each renewal is written to expire after nine tenths of the
period, so a standby takes over within one lease period of the leader's death. `still_leader()`
asks the database there and then; the daemon calls it before each job and the sync calls it
before writing, so a leader that lost its lease (paused, cut off from the database) stops before
its next write.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading

from sqlalchemy.exc import SQLAlchemyError

from okrbridge.store import DAEMON_LEASE, Store, acquire_lease, current_lease, release_lease

log = logging.getLogger("okrbridge.daemon")

_WRITTEN_SHARE = 0.9
"""A renewal is valid for this share of the lease period; a standby asks every remaining share."""


def owner_id() -> str:
    """This process's name on the lease: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class Leadership:
    """This daemon's claim on the lease `name` in `store`, lasting `lease_seconds` per renewal."""

    def __init__(self, store: Store, lease_seconds: float, *, name: str = DAEMON_LEASE,
                 owner: str | None = None) -> None:
        self.store = store
        self.lease_seconds = lease_seconds
        self.name = name
        self.owner = owner or owner_id()
        self._lock = threading.Lock()  # the renewal thread and the jobs ask in turn
        self._leading: bool | None = None  # None until first asked, so the first answer is logged
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leading(self) -> bool:
        """Whether the last check found this daemon holding the lease."""
        return bool(self._leading)

    def still_leader(self) -> bool:
        """Take or renew the lease now; True only when the database says this daemon holds it.

        A database error counts as not leading: a daemon that cannot confirm its lease must not write.
        """
        with self._lock:
            try:
                lease = acquire_lease(self.store, self.name, self.owner, self.lease_seconds * _WRITTEN_SHARE)
                held = lease is not None
            except SQLAlchemyError as exc:
                log.warning("event=lease_check_failed owner=%s error=%s", self.owner,
                            str(exc).splitlines()[0])
                held = False
            if held != self._leading:
                self._announce(held)
            self._leading = held
            return held

    def _announce(self, held: bool) -> None:
        """Log a change of role (never every check: a standby asks every tenth of a lease)."""
        if held:
            log.info("event=leading owner=%s lease_seconds=%g", self.owner, self.lease_seconds)
            return
        try:
            holder = current_lease(self.store, self.name)
        except SQLAlchemyError:
            holder = None
        log.info("event=standby owner=%s leader=%s", self.owner, holder.owner if holder else "unknown")

    def start(self) -> None:
        """Keep the lease (or keep trying for it) on a background thread until `stop()`."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._renew_loop, name="lease", daemon=True)
            self._thread.start()

    def _renew_loop(self) -> None:
        """Renew every third of the lease while leading; try every remaining tenth while standing by."""
        while True:
            standby_wait = self.lease_seconds * (1 - _WRITTEN_SHARE)
            wait = self.lease_seconds / 3 if self.still_leader() else standby_wait
            if self._stop.wait(wait):
                return

    def stop(self) -> None:
        """Stop renewing and give the lease up, so a standby takes over at once."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.lease_seconds)
            self._thread = None
        with self._lock:
            try:
                if release_lease(self.store, self.name, self.owner):
                    log.info("event=lease_released owner=%s", self.owner)
            except SQLAlchemyError as exc:
                log.warning("event=lease_release_failed owner=%s error=%s", self.owner,
                            str(exc).splitlines()[0])
            self._leading = False
