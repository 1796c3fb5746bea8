"""An exclusive lock on a results folder, so two processes never write into one store.

The lock is an operating-system file lock (``flock`` on POSIX, ``msvcrt.locking`` on
Windows) on the file ``.lock`` inside the folder. The operating system releases it when
the process ends, however it ends (exit, Ctrl-C, ``kill -9``, the OOM killer), so a
lock is never stale: a ``.lock`` file left behind by a dead process locks nothing, and the
next writer takes it over. The file itself only says who holds the lock (process id,
host, time), for the message that refuses a second writer.

Locks taken through network file systems are only as good as the file system's own
locking (NFS with ``lockd``: fine; some FUSE mounts: none).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

LOCK = ".lock"


class FolderBusy(Exception):
    """Another process holds the lock; ``holder`` says who, as far as the lock file tells."""

    def __init__(self, holder: str) -> None:
        self.holder = holder
        super().__init__(holder)


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock on ``fd`` without waiting; False if another process holds it."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(path: Path) -> str:
    """What the lock file says about its holder: one printable line, or a plain phrase."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")[:200]
    except OSError:
        text = ""
    line = text.splitlines()[0] if text.strip() else ""
    line = "".join(c if c.isprintable() else "?" for c in line).strip()
    return line or "another process"


class FolderLock:
    """The exclusive lock on one results folder, held from :meth:`acquire` to :meth:`release`."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / LOCK
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`FolderBusy`; OSError if the file cannot be made.

        The lock file is checked to be the one at the path after locking: a folder removed
        and made again meanwhile (a failed start, cleaned up) is tried afresh.
        """
        for _ in range(5):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by workers
            if not _try_lock(fd):
                os.close(fd)
                raise FolderBusy(_holder(self.path))
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                self._describe()
                return
            os.close(fd)
        raise FolderBusy(_holder(self.path))

    def _describe(self) -> None:
        """Write who holds the lock into the lock file (for the message refusing another writer)."""
        assert self.fd is not None
        since = datetime.now(UTC).isoformat(timespec="seconds")
        text = f"sco-sim process {os.getpid()} on {socket.gethostname()} since {since}\n"
        try:
            os.ftruncate(self.fd, 0)
            os.lseek(self.fd, 0, os.SEEK_SET)
            os.write(self.fd, text.encode())
        except OSError:
            pass  # the lock holds without the description

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self.fd is not None

    def release(self, remove: bool = False) -> None:
        """Release the lock (``remove``: delete the lock file first, while it is still held)."""
        if self.fd is None:
            return
        if remove:
            self.path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            os.ftruncate(self.fd, 0)  # no longer held: the file names nobody
        os.close(self.fd)  # closing the descriptor releases the lock
        self.fd = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter exit; the OS releases the lock anyway
            self.release()
