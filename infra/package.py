"""Build what gets deployed: the Code Engine function bundle and the job image's build context.

    python infra/package.py [--out dist] [--config netwarden.yaml] [--baseline DIR] [--no-wheel]

Writes
  dist/function/       __main__.py (Code Engine's Python function shape), the netwarden package,
                       requirements.txt, netwarden.yaml and baseline/ ; Code Engine builds it and
                       installs requirements.txt (infra/codeengine/function.sh)
                       baseline/.netwarden-compiled/ holds the baseline compiled (adapters/baseline_cache.py):
                       a run whose baseline is the shipped one reads it from there and parses no YAML
  dist/function.zip    the same, zipped
  dist/image/          Containerfile, requirements.txt, wheels/netwarden-*.whl, deploy/netwarden.yaml
                       and deploy/baseline/ (infra/codeengine/image.sh)

Neither carries the emulators (``netwarden/fakes``) nor the two commands that run them (``netwarden
demo``, ``netwarden fake serve``): a deployment talks to IBM Cloud and its clusters, and the job image
stays small. ``pip install netwarden`` still has all of it.

requirements.txt pins the whole runtime dependency closure of netwarden at the versions installed
in the environment that runs this script (the tested ones), so the function and the image install
exactly what the tests ran against. Run it with the project's virtual environment (``make package``).
"""

from __future__ import annotations

import argparse
import ipaddress
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_SOURCE = ROOT / "functions" / "netwarden"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".mypy_cache")
#: What a deployment does not carry: the emulators and the entrypoints that only run them.
EMULATOR_PARTS = ("fakes", "entrypoints/demo.py", "entrypoints/fake_serve.py")


def runtime_ignore(directory: str, names: list[str]) -> set[str]:
    """``shutil.copytree``'s ignore for the package source: build litter and the emulator parts."""
    here = Path(directory).resolve().relative_to(PACKAGE_SOURCE.resolve()).as_posix()
    prefix = "" if here == "." else f"{here}/"
    return set(IGNORE(directory, names)) | {n for n in names if f"{prefix}{n}" in EMULATOR_PARTS}

FUNCTION_MAIN = '''\
"""Code Engine function entry point: ``main(params)`` of netwarden's remediation function.

Code Engine runs this file with the bundle's directory as the working directory and the packages of
requirements.txt installed. The config and baseline shipped in the bundle are the defaults; the
function's environment (config map, secrets) can override both.
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
os.environ.setdefault("NETWARDEN_CONFIG", os.path.join(_HERE, "netwarden.yaml"))
os.environ.setdefault("NETWARDEN_BASELINE", os.path.join(_HERE, "baseline"))

from netwarden.entrypoints.function import main  # noqa: E402

__all__ = ["main"]
'''

MINIMAL_CONFIG = """\
# Written by `make package` because no netwarden.yaml was given: everything else comes from the
# environment (NETWARDEN_REGIONS, NETWARDEN_VPCS, NETWARDEN_STATE... set by the Code Engine config map).
baseline: baseline/
"""


def refuse_local_config(config: Path) -> None:
    """A config that points at this machine (the emulators' ``127.0.0.1``, ``localhost``, ``::1``) or
    names the emulators' API key is not a deployment's: a function or job built from it would talk to
    nothing, or to whatever listens there. One line naming the file, the line, the field and why; exit 1.

    The usual way to get one is ``netwarden fake serve --write-config``; its values come from the
    emulators' own constants, so what this refuses stays what they write."""
    from netwarden.adapters import yaml_io
    from netwarden.core.errors import ConfigError
    from netwarden.fakes.iam import API_KEY
    from netwarden.fakes.scenarios import API_KEY_ENV

    try:
        doc = yaml_io.load(config, error=ConfigError)
    except ConfigError as e:
        raise SystemExit(f"package: {e}") from e
    for path, value in _strings(doc.data, ()):
        if value in (API_KEY, API_KEY_ENV):
            why = ("is the emulators' API key" if value == API_KEY
                   else f"names {API_KEY_ENV}, the emulators' API key variable")
        elif (host := _local_host(value)) is not None:
            why = f"points at {host}, this machine, which a deployment cannot reach"
        else:
            continue
        raise SystemExit(f"package: {doc.where(path)}: {why}: this looks like a config for the emulators "
                         "(netwarden fake serve); give PACKAGE_CONFIG the deployment's config")


def _strings(data: object, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string value of a YAML document, with its path."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(value, (*path, str(key)))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _strings(item, (*path, index))
    elif isinstance(data, str):
        yield path, data


def _local_host(value: str) -> str | None:
    """The host of ``value`` (a URL, ``host:port`` or a bare host) when it is this machine."""
    text = value.strip()
    try:
        host = text if _address(text) else urlsplit(text if "://" in text else f"//{text}").hostname
    except ValueError:
        return None
    if not host:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return host
    address = _address(host)
    return host if address is not None and (address.is_loopback or address.is_unspecified) else None


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def runtime_closure(root: str = "netwarden") -> list[str]:
    """``name==version`` for every distribution netwarden needs at run time, sorted; no extras."""
    pins: dict[str, str] = {}
    todo = [Requirement(r) for r in metadata.requires(root) or []]
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        key = canonicalize_name(req.name)
        if key in pins:
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError as e:
            raise SystemExit(f"package: {req.name} (needed by netwarden) is not installed: run make install") from e
        pins[key] = f"{dist.metadata['Name']}=={dist.version}"
        todo.extend(Requirement(r) for r in dist.requires or [])
    return sorted(pins.values(), key=str.lower)


def copy_deploy_files(dest: Path, config: Path | None, baseline: Path | None, *, warn: bool = True) -> None:
    """``netwarden.yaml`` and ``baseline/`` of the deployment, into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    if config is not None and config.is_file():
        shutil.copy2(config, dest / "netwarden.yaml")
        copy_ca_files(config, dest)
    else:
        (dest / "netwarden.yaml").write_text(MINIMAL_CONFIG, encoding="utf-8")
        if warn:
            print(f"package: no config file {config}: wrote a minimal netwarden.yaml", file=sys.stderr)
    if baseline is not None and baseline.is_dir():
        shutil.copytree(baseline, dest / "baseline", ignore=IGNORE)
        compile_baseline(dest / "baseline")
    else:
        (dest / "baseline").mkdir()
        if warn:
            print(f"package: no baseline directory {baseline}: the baseline/ shipped is empty", file=sys.stderr)


def copy_ca_files(config: Path, dest: Path) -> None:
    """The clusters' ``ca_file`` certificates named relative to the config, copied beside it: the
    deployed config names them the same way. An absolute one must already be where it points; a
    relative one that is missing stops the build, naming it."""
    from netwarden.config import Settings
    from netwarden.core.errors import ConfigError

    try:
        clusters = Settings.load(config, environ={}).clusters
    except ConfigError as e:
        raise SystemExit(f"package: {e}") from e
    base = config.resolve().parent
    for cluster in clusters:
        source = Path(cluster.ca_file).resolve() if cluster.ca_file else None
        if source is None or not source.is_relative_to(base):
            continue
        if not source.is_file():
            raise SystemExit(f"package: {config}: kubernetes.clusters[{cluster.name}].ca_file: {source} is not a file")
        target = dest / source.relative_to(base)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def compile_baseline(baseline: Path) -> Path:
    """The shipped baseline's compiled form, in its hidden ``.netwarden-compiled/`` (found there by the
    key of the files beside it); a baseline that does not read stops the build with its one-line error."""
    from netwarden.adapters.baseline_cache import PACKAGED, compile_into
    from netwarden.core.errors import BaselineError

    try:
        return compile_into(baseline, baseline / PACKAGED)
    except BaselineError as e:
        raise SystemExit(f"package: the baseline does not read: {e}") from e


def build_function(out: Path, requirements: str, config: Path | None, baseline: Path | None) -> Path:
    bundle = out / "function"
    shutil.copytree(PACKAGE_SOURCE, bundle / "netwarden", ignore=runtime_ignore)
    (bundle / "__main__.py").write_text(FUNCTION_MAIN, encoding="utf-8")
    (bundle / "requirements.txt").write_text(requirements, encoding="utf-8")
    copy_deploy_files(bundle, config, baseline)
    shutil.make_archive(str(out / "function"), "zip", root_dir=bundle)
    return bundle


def build_image_context(out: Path, requirements: str, config: Path | None, baseline: Path | None,
                        *, wheel: bool) -> Path:
    context = out / "image"
    context.mkdir(parents=True)
    shutil.copy2(ROOT / "infra" / "Containerfile", context / "Containerfile")
    (context / "requirements.txt").write_text(requirements, encoding="utf-8")
    (context / "wheels").mkdir()
    if wheel:
        build_runtime_wheel(context / "wheels", out / "wheel-source")
    copy_deploy_files(context / "deploy", config, baseline, warn=False)
    return context


def build_runtime_wheel(wheels: Path, source: Path) -> None:
    """The netwarden wheel of the image, built from a copy of the project without the emulator parts."""
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(PACKAGE_SOURCE, source / "functions" / "netwarden", ignore=runtime_ignore)
    try:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels),
                        str(source)], check=True)
    finally:
        shutil.rmtree(source, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--config", type=Path, default=ROOT / "netwarden.yaml")
    parser.add_argument("--baseline", type=Path, default=ROOT / "baseline")
    parser.add_argument("--no-wheel", action="store_true", help="skip building the netwarden wheel (tests)")
    args = parser.parse_args(argv)
    if args.config is not None and args.config.is_file():
        refuse_local_config(args.config)
    out: Path = args.out
    for stale in (out / "function", out / "image"):
        shutil.rmtree(stale, ignore_errors=True)
    (out / "function.zip").unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    pins = runtime_closure()
    requirements = "# netwarden's runtime dependencies, pinned by `make package`\n" + "\n".join(pins) + "\n"
    bundle = build_function(out, requirements, args.config, args.baseline)
    context = build_image_context(out, requirements, args.config, args.baseline, wheel=not args.no_wheel)
    print(f"package: function bundle {bundle} ({len(pins)} pinned requirements), {out / 'function.zip'}")
    print(f"package: image context {context}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
