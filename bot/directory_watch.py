"""The installed local directory, watched while the bot runs.

The deployer replaces the file with `clea-bot directory update` (one rename), or a disk
or a hand breaks it in place. Opened once at start-up, the bot kept reading the old file,
or answered every "Ma fiche" with "Oups" until a restart. Here the file is looked at (a
stat, at most every CHECK_SECONDS) and reopened when it changed; when it is missing or
cannot be read, people get the national contacts and the log one ERROR line, until a
good file is back.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.retrying import MustWait, on_the_loop
from knowledge.opendata import DirectoryUnavailable, LocalDirectory, open_directory

log = logging.getLogger(__name__)

CHECK_SECONDS = 5.0
OPEN_ERRORS = (sqlite3.DatabaseError, ValueError, KeyError, OSError)


class WatchedDirectory:
    """Answers like a LocalDirectory (attributes and queries), or raises
    DirectoryUnavailable. `opened`: the directory already opened at start-up, if any."""

    def __init__(
        self,
        path: Path,
        opened: LocalDirectory | None = None,
        check_seconds: float = CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.path = path
        self.check_seconds = check_seconds
        self.clock = clock
        self._directory = opened
        self._signature = self._stat()
        self._checked = clock()
        self._broken = False

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _failed(self, exc: BaseException | None) -> None:
        """One ERROR line when the directory stops answering, not one per person."""
        if not self._broken:
            reason = type(exc).__name__ if exc is not None else "file missing"
            log.error(
                "local directory unavailable (%s): national contacts until it is readable again",
                reason,
            )
        self._broken = True
        if self._directory is not None:
            self._directory.close()
            self._directory = None

    def _reopen(self) -> None:
        try:
            directory = open_directory(self.path)
        except OPEN_ERRORS as exc:
            self._failed(exc)
            return
        if directory is None:
            self._failed(None)
            return
        if self._directory is not None:
            self._directory.close()
        self._directory = directory
        if self._broken:
            log.info("local directory readable again")
        self._broken = False

    def current(self) -> LocalDirectory:
        now = self.clock()
        if now - self._checked >= self.check_seconds:
            self._checked = now
            signature = self._stat()
            if signature != self._signature or (self._broken and signature is not None):
                if on_the_loop():  # opening a file reads the disk: on the database thread
                    self._checked = now - self.check_seconds
                    raise MustWait
                self._signature = signature
                self._reopen()
        if self._directory is None:
            raise DirectoryUnavailable(str(self.path))
        return self._directory

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.current(), name)
        if not callable(value):
            return value

        def query(*args: Any, **kwargs: Any) -> Any:
            try:
                return value(*args, **kwargs)
            except sqlite3.DatabaseError as exc:  # broken in place while open
                self._failed(exc)
                raise DirectoryUnavailable(str(self.path)) from None

        return query
