"""The compiled baseline: a baseline directory parsed and validated once, then read back as data.

Reading a large baseline is YAML parsing and validation of thousands of files, while their bytes read
in a fraction of that time. So the commands that compare against the baseline (``check``, ``scan``,
``remediate``, ``event``, ``job``) read it through this module: the parsed, validated Snapshot is kept
in a cache file named by a key of

* the cache format, the PyYAML version and the source of the code that reads a baseline (``core`` and
  the baseline adapters), so a netwarden that reads differently never takes another's result, and
* every YAML file of the baseline as ``baseline_tree`` lists it: its relative path and its bytes, read
  through any link, so an edit, a rename, an added or removed file or a retargeted link is another key.
  Never modification times: a file edited within the clock's resolution would go unnoticed.

A cache file is one header line of JSON (format, version, key, the payload's size and BLAKE2b digest)
and the payload: the Snapshot in the snapshot file format (``core.snapshot_format``), decoded by its
reader, so a cache file is data and nothing in one can run. A file whose header, size or digest does
not match (corrupt, truncated, foreign, another version) is ignored with one warning and rebuilt, never
an error; a baseline that does not read is never cached, so its error is the one the files give.
Writes are atomic (``files.write_atomic``); a cache directory that cannot be written is one warning.

A deployment carries its baseline compiled: ``make package`` writes the cache file into the shipped
baseline directory's hidden ``.netwarden-compiled/`` (hidden entries are not part of a baseline), where
a run looks first, by the same key, so a Code Engine run with the shipped baseline parses no YAML.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import stat
from collections.abc import Callable, Mapping
from contextlib import suppress
from pathlib import Path

import msgspec
import yaml

from netwarden.adapters import baseline_tree
from netwarden.adapters.files import write_atomic
from netwarden.adapters.yaml_io import MAX_FILE_BYTES
from netwarden.core import gc_pause, snapshot_format
from netwarden.core.errors import BaselineError, Location, NetwardenError
from netwarden.core.model import Snapshot

log = logging.getLogger(__name__)

FORMAT = "netwarden-compiled-baseline"
VERSION = 1
#: Where a packaged baseline carries its compiled form (hidden: not part of the baseline it compiles).
PACKAGED = ".netwarden-compiled"
#: Cache files kept in one cache directory; the oldest beyond this are removed after a write.
KEEP = 8
_HEADER_MAX = 4096
#: Reads a snapshot file's bytes: ``core.snapshot_format.loads`` or a decoder that gives the same model.
Decode = Callable[[bytes, str], Snapshot]
_PACKAGE = Path(__file__).resolve().parent.parent


def default_dir(environ: Mapping[str, str]) -> Path | None:
    """``$XDG_CACHE_HOME/netwarden``, else ``~/.cache/netwarden``; None when there is no home to use."""
    xdg = environ.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "netwarden"
    home = environ.get("HOME", "")
    return Path(home) / ".cache" / "netwarden" if home and Path(home).is_absolute() else None


def read_baseline(root: Path, cache_dir: Path | None, decode: Decode = snapshot_format.loads) -> Snapshot:
    """The baseline directory ``root``, from its compiled form when one matches its files, else read
    from them (``baseline_fs.read_baseline``) and compiled into ``cache_dir``. No ``cache_dir``: no cache."""
    key = content_key(root) if cache_dir is not None else None
    if key is None or cache_dir is None:
        return _read_files(root)
    for directory in (root / PACKAGED, cache_dir):
        found = load(directory / file_name(key), key, decode)
        if found is not None:
            log.debug("baseline %s: compiled form %s used", root, directory / file_name(key))
            return found
    snapshot = _read_files(root)
    store(cache_dir, key, snapshot)
    return snapshot


def compile_into(root: Path, directory: Path) -> Path:
    """Read the baseline ``root`` (BaselineError if it is not one) and write its compiled form into
    ``directory``, replacing any other there; returns the file written."""
    key = content_key(root)
    snapshot = _read_files(root)
    if key is None or content_key(root) != key:  # a file changed while it was read: nothing consistent
        raise BaselineError("the baseline changed while it was compiled", location=Location(str(root)))
    if directory.is_dir():
        for old in directory.glob("baseline-*.json"):
            old.unlink()
    path = directory / file_name(key)
    write_atomic(path, encode(key, snapshot))
    return path


def file_name(key: str) -> str:
    return f"baseline-{key}.json"


def content_key(root: Path) -> str | None:
    """The key of the baseline's content; None when a file cannot be keyed (gone, not a regular file, too
    large, unreadable): reading the files then names the problem as it always does."""
    try:
        names = baseline_tree.yaml_files(root) if root.is_dir() else None
    except (BaselineError, OSError):
        return None
    if names is None:
        return None
    digest = hashlib.blake2b(_code_fingerprint(), digest_size=32)
    base = os.fspath(root)
    for rel in names:
        data = _file_bytes(os.path.join(base, rel))
        if data is None:
            return None
        name = rel.encode("utf-8", "surrogateescape")
        digest.update(b"%d:%d:" % (len(name), len(data)))
        digest.update(name)
        digest.update(data)
    return digest.hexdigest()


def _file_bytes(path: str) -> bytes | None:
    """The bytes of a regular file of at most ``MAX_FILE_BYTES`` (plain ``os`` calls: tens of thousands of files)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the key
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            return None
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, max(info.st_size + 1 - size, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    return b"".join(chunks) if size <= MAX_FILE_BYTES else None


@functools.cache
def _code_fingerprint() -> bytes:
    """What the compiled form depends on besides the files: this format, PyYAML, the reading code (the
    same bytes in a checkout, the function bundle and the image's wheel, which carry the same source)."""
    digest = hashlib.blake2b(f"{FORMAT}:{VERSION}:pyyaml {yaml.__version__}".encode(), digest_size=32)
    sources = sorted((_PACKAGE / "core").rglob("*.py"))
    sources += sorted(p for p in (_PACKAGE / "adapters").glob("*.py")
                      if p.name.startswith("baseline_") or p.name in ("yaml_io.py", "files.py"))
    for path in sources:
        digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
        digest.update(hashlib.blake2b(path.read_bytes()).digest())
    return digest.digest()


def encode(key: str, snapshot: Snapshot) -> bytes:
    """The cache file of ``snapshot``: the header line, then the payload (compact snapshot JSON). The
    collector is paused: building the data makes a million objects and no cycles (2.5 s of 3.6 s at 100%)."""
    with gc_pause.paused():
        payload = msgspec.json.encode(snapshot_format.to_data(snapshot))
    header = {"format": FORMAT, "version": VERSION, "key": key, "size": len(payload),
              "blake2b": hashlib.blake2b(payload).hexdigest()}
    return json.dumps(header).encode() + b"\n" + payload


def load(path: Path, key: str, decode: Decode = snapshot_format.loads) -> Snapshot | None:
    """The Snapshot in the cache file ``path`` when it is a whole, matching one for ``key``; else None
    (a file that is there but does not match is one warning)."""
    try:
        with path.open("rb") as f:
            head = f.readline(_HEADER_MAX)
            payload = f.read(snapshot_format.MAX_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):  # not compiled yet (or no such directory)
        return None
    except OSError as e:
        log.warning("baseline cache %s: cannot read (%s): reading the baseline files", path, e.strerror or e)
        return None
    why = _mismatch(head, payload, key)
    if why is None:
        try:
            return decode(payload, str(path))
        except (NetwardenError, ValueError, TypeError, LookupError, RecursionError) as e:
            why = f"its payload does not decode ({e.__class__.__name__})"
    log.warning("baseline cache %s: ignored, %s: reading the baseline files and rebuilding it", path, why)
    return None


def _mismatch(head: bytes, payload: bytes, key: str) -> str | None:
    """Why ``head`` and ``payload`` are not the cache file of ``key``; None when they are."""
    try:
        header = json.loads(head)
    except ValueError:
        return "no header"
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        return "not a compiled baseline"
    if header.get("version") != VERSION:
        return f"format version {header.get('version')!r}, not {VERSION}"
    if header.get("key") != key:
        return "written for other content"
    if header.get("size") != len(payload):
        return f"{len(payload)} bytes of payload where the header says {header.get('size')!r} (truncated?)"
    if header.get("blake2b") != hashlib.blake2b(payload).hexdigest():
        return "its payload does not match its checksum"
    return None


def store(cache_dir: Path, key: str, snapshot: Snapshot) -> None:
    """Write the compiled form of ``snapshot`` into ``cache_dir``, then drop the oldest beyond ``KEEP``; a
    directory that cannot be written is one warning."""
    path = cache_dir / file_name(key)
    try:
        write_atomic(path, encode(key, snapshot))
    except OSError as e:
        log.warning("baseline cache %s: cannot write (%s): the baseline is read from its files each run",
                    cache_dir, e.strerror or e)
        return
    with suppress(OSError):  # another run pruning at the same time
        entries = sorted(cache_dir.glob("baseline-*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in entries[KEEP:]:
            old.unlink(missing_ok=True)


def _read_files(root: Path) -> Snapshot:
    from netwarden.adapters import baseline_fs  # only when the files are read: YAML and the schema

    return baseline_fs.read_baseline(root)
