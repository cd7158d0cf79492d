"""The function bundle ``make package`` writes installs in a fresh virtual environment and its
``main(params)`` answers there, against the emulators, as Code Engine would run it.

Offline and fast enough for CI: the fresh environment installs ``requirements.txt`` with
``pip install --no-index --find-links`` from wheels this test builds out of the distributions already
installed in the test environment (the versions the bundle pins are those), so no registry is asked.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import venv
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from ce_deployment import delete_rule, deploy

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "bundle-test-token-0123456789abcdef01234567"


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def wheel_from_installed(requirement: str, out: Path) -> Path:
    """Repack an installed distribution (``name==version``) as a wheel: its files under site-packages,
    its dist-info, a fresh RECORD; scripts are left out (pip makes them from entry_points.txt)."""
    name, _, version = requirement.partition("==")
    dist = metadata.distribution(name)
    assert dist.version == version, f"{name}: installed {dist.version}, pinned {version}"
    tags = [line.split(":", 1)[1].strip() for line in (dist.read_text("WHEEL") or "").splitlines()
            if line.startswith("Tag:")]
    tag = next((t for t in tags if t.startswith(("cp3", "py3"))), tags[0] if tags else "py3-none-any")
    files = [f for f in dist.files or [] if not str(f).startswith("..") and "__pycache__" not in str(f)]
    info = next(str(f).split("/")[0] for f in files if str(f).split("/")[0].endswith(".dist-info"))
    normalized = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    path = out / f"{normalized}-{dist.version}-{tag}.whl"
    rows = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for f in files:
            rel = str(f)
            if rel.startswith(f"{info}/") and rel.split("/", 1)[1] in ("RECORD", "INSTALLER", "REQUESTED",
                                                                      "direct_url.json"):
                continue
            source = Path(str(dist.locate_file(f)))
            if not source.is_file():
                continue
            data = source.read_bytes()
            z.writestr(rel, data)
            rows.append(f"{rel},{_record_hash(data)},{len(data)}")
        rows.append(f"{info}/RECORD,,")
        z.writestr(f"{info}/RECORD", "\n".join(rows) + "\n")
    return path


@pytest.mark.slow
def test_the_function_bundle_installs_and_answers_in_a_fresh_environment(fake: Any, tmp_path: Path) -> None:
    d = deploy(fake, tmp_path / "deployment", slack=False)
    delete_rule(d.sdk())
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, str(ROOT / "infra" / "package.py"), "--out", str(dist), "--no-wheel",
                    "--config", str(d.config), "--baseline", str(d.root / "baseline")], check=True,
                   capture_output=True)
    bundle = dist / "function"
    assert (dist / "function.zip").is_file() and (bundle / "__main__.py").is_file()
    assert "infra/package.py" in (ROOT / "Makefile").read_text(encoding="utf-8")
    requirements = [line for line in (bundle / "requirements.txt").read_text().splitlines()
                    if line and not line.startswith("#")]
    assert {"ibm-vpc", "ibm-cloud-sdk-core", "PyYAML"} <= {r.split("==")[0] for r in requirements}

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for requirement in requirements:
        wheel_from_installed(requirement, wheels)
    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-compile", "--no-index", "--no-deps",
                    "--find-links", str(wheels), "-r", str(bundle / "requirements.txt")], check=True,
                   capture_output=True)
    subprocess.run([str(python), "-m", "pip", "check"], check=True, capture_output=True)

    params = {"__ce_method": "POST", "__ce_path": "/", "__ce_query": "",
              "__ce_headers": {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
              "__ce_body": base64.b64encode(b'{"action": "plan"}').decode(), "action": "plan"}
    probe = ("import json, runpy, sys; ns = runpy.run_path('__main__.py'); import netwarden; "
             "answer = ns['main'](json.loads(sys.argv[1])); print(json.dumps({'answer': answer, "
             "'package': netwarden.__file__}))")
    env = {"PATH": os.environ.get("PATH", ""), "NETWARDEN_FUNCTION_TOKEN": TOKEN, **d.env}
    env.pop("NETWARDEN_CONFIG")  # the bundle's own netwarden.yaml and baseline/ are the defaults
    out = subprocess.run([str(python), "-c", probe, json.dumps(params)], cwd=bundle, env=env, check=True,
                         capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(result["package"]).is_relative_to(bundle)
    answer = result["answer"]
    assert answer["statusCode"] == 200, answer
    assert answer["body"]["status"] == "planned" and len(answer["body"]["plan"]["steps"]) == 1
