"""YAML parsed ahead in a second process while this one validates: the cold read of a large baseline on two CPUs.

Reading a baseline the size of a large account is two kinds of work of about the same size: parsing YAML
(``baseline_yaml.fast_data``) and validating the data into the model (``baseline_schema``), one after the
other on one CPU. With a second CPU, ``start`` runs this module as a worker process that reads and parses
the files in the order the reader asks for them and streams each one's data back as MessagePack (which
decodes in a few percent of the time the YAML took), so the two halves overlap.

The worker is an accelerator, never a judge: a file it cannot read, decode or parse the fast way, or whose
data MessagePack would not carry unchanged (a timestamp, an integer past 64 bits), comes back as "load it
yourself", and the reader loads that file as it would without a worker, so every result and every error
message is the same. A worker that cannot start, ends early or sends anything unexpected is one debug line,
and the reader carries on alone. However the read ends, the worker is ended by its PID and reaped.

The protocol: the reader writes one MessagePack list of the files' paths (bytes, as the OS spells them) to
the worker's stdin and closes it; the worker answers each path, in order, with a frame of a 4-byte
big-endian length and a MessagePack ``[data]``, or ``[]`` for "load it yourself".
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

import msgspec

log = logging.getLogger(__name__)

#: The reader parses every this-many-th file itself: it validates faster than the worker parses, and
#: this share keeps both CPUs busy to the end (measured on the 100% account of ``benchmarks/scale.py``).
READER_SHARE = 5
#: Below this many files the worker's start (about 0.1 s) costs more than it saves.
MIN_FILES = 400
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent
_PIPE_BYTES = 1 << 20
_F_SETPIPE_SZ = 1031  # Linux: a larger pipe lets the worker run ahead of a reader busy validating
_LENGTH = 4
#: What ``take`` returns for a file the reader must load itself.
YOURSELF: Any = object()


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity where the OS tells it, else the machine's count)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def start(paths: Sequence[Path]) -> Prefetch | None:
    """A worker parsing ``paths`` ahead, in this order, but for the reader's share (every ``READER_SHARE``-th,
    which ``take`` answers with ``YOURSELF`` at once); None when it would not help (few files, one CPU) or
    cannot start."""
    if len(paths) < MIN_FILES or usable_cpus() < 2 or not sys.executable:
        return None
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(_PACKAGE_ROOT), env.get("PYTHONPATH"))))
    try:
        proc = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env)
    except OSError as e:
        log.debug("baseline prefetch: cannot start a worker (%s): reading alone", e)
        return None
    ahead = [path for i, path in enumerate(paths) if i % READER_SHARE != READER_SHARE - 1]
    prefetch = Prefetch(proc, ahead)
    with suppress(OSError):
        import fcntl

        fcntl.fcntl(proc.stdout.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)  # type: ignore[union-attr]
    try:
        assert proc.stdin is not None
        proc.stdin.write(msgspec.msgpack.encode([os.fsencode(p) for p in ahead]))
        proc.stdin.close()
    except OSError as e:
        prefetch.stop(f"cannot send it the files ({e.__class__.__name__})")
        return None
    return prefetch


class _Broken(Exception):
    """The worker's stream cannot be read on: why."""


class Prefetch:
    """The reader's end of one worker: ``take`` each file's data in the order given to ``start``."""

    def __init__(self, proc: subprocess.Popen[bytes], ahead: Sequence[Path]) -> None:
        self._proc: subprocess.Popen[bytes] | None = proc
        self._paths, self._next, self._ahead = ahead, 0, frozenset(ahead)
        self._decode = msgspec.msgpack.Decoder().decode

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def take(self, path: Path) -> Any:
        """The data of ``path``, the next file, or ``YOURSELF`` (it is the reader's share, the worker
        stepped aside for it or has stopped, or ``path`` is not the file it answers next)."""
        if self._proc is None or self._proc.stdout is None or path not in self._ahead:
            return YOURSELF
        if path != self._paths[self._next]:
            self.stop(f"asked for {path} where {self._paths[self._next]} comes next")
            return YOURSELF
        try:
            frame = self._frame(self._proc.stdout)
        except _Broken as e:
            self.stop(str(e))
            return YOURSELF
        self._next += 1
        if self._next == len(self._paths):
            self.stop(None)
        return frame[0] if frame else YOURSELF

    def _frame(self, stream: IO[bytes]) -> list[Any]:
        try:
            head = stream.read(_LENGTH)
            size = int.from_bytes(head, "big")
            body = stream.read(size) if len(head) == _LENGTH else b""
        except OSError as e:
            raise _Broken(f"{e.__class__.__name__} reading its answer") from e
        if not head:
            raise _Broken("it ended early")
        if len(head) != _LENGTH or len(body) != size:
            raise _Broken("an incomplete answer")
        try:
            frame = self._decode(body)
        except msgspec.DecodeError as e:
            raise _Broken("an answer that does not decode") from e
        if not isinstance(frame, list) or len(frame) > 1:
            raise _Broken("an answer out of protocol")
        return frame

    def stop(self, why: str | None) -> None:
        """End the worker (by its PID: nothing else) and reap it; ``why`` it stopped early, if it did."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if why is not None:
            log.debug("baseline prefetch: worker %d stopped: %s: reading alone", proc.pid, why)
        with suppress(OSError):
            proc.kill()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with suppress(OSError):
                    stream.close()
        proc.wait()


def _serve(source: IO[bytes], sink: IO[bytes]) -> None:
    """The worker: parse each file named on ``source`` and write its frame to ``sink``."""
    import gc

    from netwarden.adapters import baseline_yaml, yaml_io

    gc.disable()  # parsed data is many objects and no cycles; each file's is dropped once sent
    encode = msgspec.msgpack.Encoder().encode
    for raw in msgspec.msgpack.decode(source.read(), type=list[bytes]):
        try:
            data = baseline_yaml.fast_data(yaml_io.read_text(Path(os.fsdecode(raw))), portable=True)
            body = encode([] if data is baseline_yaml.NOT_PLAIN else [data])
        except Exception:  # whatever it is, the reader loads the file itself and names it
            body = encode([])
        sink.write(len(body).to_bytes(_LENGTH, "big"))
        sink.write(body)
    sink.flush()


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
