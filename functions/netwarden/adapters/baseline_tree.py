"""Which files make up a baseline directory: every YAML file below the root, links followed inside it.

Apart from the parser (``baseline_fs``) because what counts as "in the baseline" is a safety question
of its own: a folder skipped here is a folder remediation would delete from the cluster.
"""

from __future__ import annotations

import os
from pathlib import Path

from netwarden.core.errors import BaselineError, Location

YAML_SUFFIXES = (".yaml", ".yml")


def yaml_files(root: Path) -> list[str]:
    """Relative POSIX paths of every YAML file under ``root``, hidden entries skipped, sorted.

    Links inside the root are followed: a folder linked into the baseline is part of it (reading it as
    absent would make remediation delete what it holds), and two clusters may share one folder of
    policies. A link that leads out of the root, a broken one, and one that leads back to a folder it
    is in (a loop) are each a BaselineError naming the link: never skipped."""
    real_root = root.resolve()
    out = []

    def unreadable(e: OSError) -> None:
        raise BaselineError(f"cannot read: {e.strerror or e}", location=Location(str(e.filename or root))) from e

    for directory, dirs, files in os.walk(root, onerror=unreadable, followlinks=True):
        kept = []
        for name in sorted(d for d in dirs if not d.startswith(".")):
            path = Path(directory, name)
            if path.is_symlink():
                target = _link_target(path, real_root)
                if Path(directory).resolve().is_relative_to(target):
                    raise BaselineError(f"a link loop: it leads back to {target.relative_to(real_root).as_posix()}"
                                        ", a folder it is in", location=Location(str(path)))
            kept.append(name)
        dirs[:] = kept
        for name in files:
            if name.startswith("."):
                continue
            path = Path(directory, name)
            if path.is_symlink():
                _link_target(path, real_root)
            if name.endswith(YAML_SUFFIXES):
                out.append(path.relative_to(root).as_posix())
    return sorted(out)


def _link_target(link: Path, real_root: Path) -> Path:
    """Where ``link`` leads, when that is an existing place inside the baseline root."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError) as e:  # a dangling link, or a loop the resolver gave up on
        raise BaselineError(f"a broken link ({os.readlink(link)}): the baseline cannot be read without what it "
                            "named", location=Location(str(link))) from e
    if not target.is_relative_to(real_root):
        raise BaselineError(f"a link out of the baseline (to {target}): copy what it names into the baseline "
                            "instead", location=Location(str(link)))
    return target
