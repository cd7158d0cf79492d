"""The state store in a local directory (``file://.netwarden/state``, the default).

Keys are relative paths below the root. ``put`` replaces a file in one step (temp file, fsync,
rename), so a reader sees the old content or the new, never half; ``append`` adds one line with a
single ``O_APPEND`` write and fsync. The lock is a file created with ``O_EXCL`` holding a
``lock_record``: who took it, on which host and PID, until when. A run that finds it stale (the lease
ran out, or the holder's process on this host is gone) takes it over, so a run that died does not
block the next ones; the runs that look at one lock take turns through an ``flock`` beside it, and a
takeover moves the file aside and checks it is still the one judged stale, so of two runs breaking
the same lock only one gets it.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path, PurePosixPath

from netwarden.adapters import lock_record
from netwarden.adapters.files import write_atomic
from netwarden.adapters.lock_record import DEFAULT_LOCK_TTL
from netwarden.core.errors import LockHeld, StateError

log = logging.getLogger(__name__)


def check_key(key: str) -> str:
    """A key is a relative path without ``..``; anything else is refused."""
    parts = PurePosixPath(key).parts
    if not key or key.startswith("/") or "\\" in key or any(p in ("..", ".") for p in parts):
        raise StateError(f"invalid state key {key!r}")
    return "/".join(parts)


class FileStateStore:
    """``StateStore`` on a directory."""

    def __init__(self, root: Path, *, lock_ttl: float = DEFAULT_LOCK_TTL,
                 clock: Callable[[], float] = time.time) -> None:
        self.root = root
        self.lock_ttl = lock_ttl
        self._clock = clock
        self._process = lock_record.this_process()
        self._alive = lock_record.pid_alive

    @classmethod
    def from_url(cls, url: str, *, lock_ttl: float = DEFAULT_LOCK_TTL) -> FileStateStore:
        if not url.startswith("file://"):
            raise StateError(f"{url}: not a file:// state URL")
        path = url[len("file://"):]
        if not path:
            raise StateError(f"{url}: no directory given")
        return cls(Path(path), lock_ttl=lock_ttl)

    def __repr__(self) -> str:
        return f"FileStateStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise StateError(f"{path}: cannot read: {e.strerror}") from e

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            write_atomic(path, data)
        except OSError as e:
            raise StateError(f"{path}: cannot write: {e.strerror}") from e

    def append(self, key: str, line: bytes) -> None:
        path = self._path(key)
        data = line if line.endswith(b"\n") else line + b"\n"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            raise StateError(f"{path}: cannot append: {e.strerror}") from e

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
        except OSError as e:
            raise StateError(f"{path}: cannot delete: {e.strerror}") from e

    def keys(self, prefix: str = "") -> Iterator[str]:
        if not self.root.is_dir():
            return
        found = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if name.startswith("."):
                    continue  # temp files of write_atomic
                key = Path(dirpath, name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append(key)
        yield from sorted(found)

    @contextmanager
    def lock(self, name: str, owner: str) -> Iterator[None]:
        path = self._path(f"locks/{name}.lock")
        mine = self._acquire(path, name, owner)
        try:
            yield
        finally:
            self._release(path, mine)

    def _acquire(self, path: Path, name: str, owner: str) -> bytes:
        record = lock_record.encode(lock_record.new(owner, self._process, now=self._clock(), ttl=self.lock_ttl))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with _guard(path):
                for _ in range(2):
                    if _create(path, record):
                        return record
                    self._take_over_if_stale(path, name)
        except OSError as e:
            raise StateError(f"{path}: cannot take the lock: {e.strerror}") from e
        raise LockHeld(f"lock {name!r} was taken by another run while this one took over a stale one")

    def _take_over_if_stale(self, path: Path, name: str) -> None:
        """Remove a stale lock (logging whose it was and why), or raise ``LockHeld`` naming its holder."""
        found = _read(path)
        if found is None:
            return  # released since: the caller creates it again
        data, seen = found
        record = lock_record.decode(data)
        reason = lock_record.stale_reason(record, now=self._clock(), written_at=seen.st_mtime, ttl=self.lock_ttl,
                                          here=self._process, alive=self._alive)
        if reason is None:
            raise LockHeld(lock_record.refusal(name, record, written_at=seen.st_mtime, ttl=self.lock_ttl))
        if not _remove_if_same(path, data, seen):
            raise LockHeld(f"lock {name!r} was taken by another run while this one took over a stale one")
        log.warning("%s", lock_record.takeover_line(name, record, reason))

    def _release(self, path: Path, mine: bytes) -> None:
        try:
            with _guard(path):
                found = _read(path)
                if found is not None and found[0] == mine:
                    path.unlink()
        except FileNotFoundError:
            return
        except OSError as e:
            raise StateError(f"{path}: cannot release the lock: {e.strerror}") from e


@contextmanager
def _guard(path: Path) -> Iterator[None]:
    """Serialise the runs that look at one lock: an ``flock`` on a file beside it, which the kernel drops
    when its process dies, so the guard itself never goes stale. Where the filesystem has no ``flock``
    the run goes on without it, and the rename-aside check of ``_remove_if_same`` still holds."""
    fd = os.open(path.with_name(f".{path.name}.guard"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as e:
            if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                raise
        yield
    finally:
        os.close(fd)  # closing drops the flock


def _create(path: Path, record: bytes) -> bool:
    """Create the lock file with ``record``; False when it exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    try:
        os.write(fd, record)
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def _read(path: Path) -> tuple[bytes, os.stat_result] | None:
    """The lock's content and the identity (inode, mtime) of the file it was read from."""
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return None
    with f:
        return f.read(), os.fstat(f.fileno())


def _remove_if_same(path: Path, seen: bytes, seen_stat: os.stat_result) -> bool:
    """Move the lock aside and drop it if it is still the file judged stale (same inode, same content:
    a freed inode is soon reused); put back one that is not (another run took the lock between our
    read and our rename) and answer False."""
    aside = path.with_name(f".{path.name}.{uuid.uuid4().hex}.stale")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return True
    try:
        moved = os.stat(aside)
        if (moved.st_dev, moved.st_ino) == (seen_stat.st_dev, seen_stat.st_ino) and aside.read_bytes() == seen:
            return True
        with suppress(FileExistsError):
            os.link(aside, path)  # never over a lock created meanwhile
        return False
    finally:
        aside.unlink(missing_ok=True)
