"""The state store in a local directory (``file://.netwarden/state``, the default).

Keys are relative paths below the root. ``put`` replaces a file in one step (temp file, fsync,
rename), so a reader sees the old content or the new, never half; ``append`` adds one line with a
single ``O_APPEND`` write and fsync. The lock is a file created with ``O_EXCL`` that names its owner
and when it expires, so a run that died does not block the next ones for ever.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from netwarden.adapters.files import write_atomic
from netwarden.core.errors import LockHeld, StateError

DEFAULT_LOCK_TTL = 15 * 60.0


def check_key(key: str) -> str:
    """A key is a relative path without ``..``; anything else is refused."""
    parts = PurePosixPath(key).parts
    if not key or key.startswith("/") or "\\" in key or any(p in ("..", ".") for p in parts):
        raise StateError(f"invalid state key {key!r}")
    return "/".join(parts)


def lock_record(owner: str, now: float, ttl: float) -> bytes:
    return json.dumps({"owner": owner, "acquired_at": now, "expires_at": now + ttl}, sort_keys=True).encode()


def lock_expired(data: bytes | None, now: float) -> bool:
    """True for a lock record past its expiry, or one that cannot be read (a torn write)."""
    if data is None:
        return True
    try:
        return float(json.loads(data)["expires_at"]) <= now
    except (ValueError, KeyError, TypeError):
        return True


def lock_owner(data: bytes | None) -> str:
    try:
        return str(json.loads(data or b"{}").get("owner", "?"))
    except ValueError:
        return "?"


class FileStateStore:
    """``StateStore`` on a directory."""

    def __init__(self, root: Path, *, lock_ttl: float = DEFAULT_LOCK_TTL,
                 clock: Callable[[], float] = time.time) -> None:
        self.root = root
        self.lock_ttl = lock_ttl
        self._clock = clock

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
        self._acquire(path, name, owner)
        try:
            yield
        finally:
            self._release(path, owner)

    def _acquire(self, path: Path, name: str, owner: str) -> None:
        record = lock_record(owner, self._clock(), self.lock_ttl)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            for _ in range(2):
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                except FileExistsError:
                    if not self._break_if_expired(path):
                        raise LockHeld(f"lock {name!r} is held by {self._holder(path)}") from None
                    continue
                try:
                    os.write(fd, record)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                return
        except OSError as e:
            raise StateError(f"{path}: cannot take the lock: {e.strerror}") from e
        raise LockHeld(f"lock {name!r} was taken by another run while this one broke an expired one")

    @staticmethod
    def _holder(path: Path) -> str:
        try:
            return lock_owner(path.read_bytes())
        except OSError:
            return "?"

    def _break_if_expired(self, path: Path) -> bool:
        """Move an expired lock aside; True if it was ours to move (it is still the one we read)."""
        try:
            seen = path.read_bytes()
        except FileNotFoundError:
            return True
        if not lock_expired(seen, self._clock()):
            return False
        aside = path.with_name(f".{path.name}.{uuid.uuid4().hex}.stale")
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return True
        if aside.read_bytes() != seen:  # another run took the lock between our read and our rename
            os.rename(aside, path)
            return False
        aside.unlink(missing_ok=True)
        return True

    def _release(self, path: Path, owner: str) -> None:
        try:
            if lock_owner(path.read_bytes()) == owner:
                path.unlink()
        except FileNotFoundError:
            return
        except OSError as e:
            raise StateError(f"{path}: cannot release the lock: {e.strerror}") from e
