"""One writer per home: an advisory lock file that names the process holding it.

The lock is an `flock` on `<home>/coordinator.lock`, so the kernel releases it when the holder dies,
even by SIGKILL: a stale file never blocks a restart. The file's content says who holds it
(pid, command, start time), for error messages and `coordinator status`.
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOCK_FILE = "coordinator.lock"


class HomeLocked(RuntimeError):
    """Another coordinator process is writing to this home."""

    def __init__(self, home: Path, holder: dict[str, Any]) -> None:
        pid = holder.get("pid", "unknown")
        what = holder.get("command") or "a coordinator"
        super().__init__(f"{home} is in use by {what} (pid {pid}, since {holder.get('started_at', '?')}); "
                         "stop it first (`coordinator stop`) or use another --home")
        self.holder = holder


class HomeLock:
    """Holds the home's writer lock from `acquire` until `release` (or the process ends)."""

    def __init__(self, home: Path, command: str) -> None:
        self.path = home / LOCK_FILE
        self.home = home
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> HomeLock:
        """Take the lock or raise `HomeLocked` naming the holder."""
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise HomeLocked(self.home, read_holder(self.path)) from None
        self._fd = fd
        self.info: dict[str, Any] = {"pid": os.getpid(), "command": self.command,
                                     "started_at": datetime.now(UTC).isoformat()}
        self._write()
        return self

    def announce(self, **facts: Any) -> None:
        """Add facts about the holder for other processes to read (e.g. its HTTP address, that it is ready)."""
        self.info.update(facts)
        self._write()

    def _write(self) -> None:
        assert self._fd is not None, "the lock is held"
        data = json.dumps(self.info).encode()
        os.pwrite(self._fd, data, 0)
        os.ftruncate(self._fd, len(data))
        os.fsync(self._fd)

    def release(self) -> None:
        """Let another process write."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> HomeLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_holder(path: Path) -> dict[str, Any]:
    """What the lock file says about its holder (empty when unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def holder(home: Path) -> dict[str, Any] | None:
    """The process writing to `home` right now (pid, command, started_at), or None when none is."""
    path = home / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):  # no home there (yet): nobody writes to it
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_holder(path)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def running_service(home: Path) -> dict[str, Any] | None:
    """The service (`coordinator run` following a file) writing to `home`: its pid and start time, if any."""
    found = holder(home)
    return found if found is not None and found.get("command") == "run" else None
