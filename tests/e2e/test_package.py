"""The function bundle ``make package`` writes installs in a fresh virtual environment and its
``main(params)`` answers there, against the emulators, as Code Engine would run it; the job image's
wheel installs there as the Containerfile installs it and ``netwarden job`` runs. Neither carries the
emulators.

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
import yaml
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


EMULATOR_FILES = re.compile(r"(^|/)netwarden/(fakes/|entrypoints/(demo|fake_serve)\.py$)")


@pytest.mark.slow
def test_the_function_bundle_and_the_job_image_install_and_run_in_a_fresh_environment(fake: Any,
                                                                                        tmp_path: Path) -> None:
    d = deploy(fake, tmp_path / "deployment", slack=False)
    delete_rule(d.sdk())
    dist = tmp_path / "dist"
    # make package refuses a config that points at this machine: the bundle ships the deployment's own
    # (IBM Cloud's endpoints), and the environment points the run at the emulators, as a config map would
    shipped_config = yaml.safe_load(d.config.read_text(encoding="utf-8"))
    endpoints = {"NETWARDEN_VPC_URL": shipped_config["ibmcloud"].pop("vpc_url"),
                 "NETWARDEN_IAM_URL": shipped_config["ibmcloud"].pop("iam_url")}
    deployable = tmp_path / "deployable.yaml"
    deployable.write_text(yaml.safe_dump(shipped_config, sort_keys=False), encoding="utf-8")
    refused = subprocess.run([sys.executable, str(ROOT / "infra" / "package.py"), "--out", str(dist), "--config",
                              str(d.config), "--no-wheel"], capture_output=True, text=True, check=False)
    assert refused.returncode == 1 and "ibmcloud.vpc_url: points at 127.0.0.1" in refused.stderr
    assert not dist.exists()
    subprocess.run([sys.executable, str(ROOT / "infra" / "package.py"), "--out", str(dist),
                    "--config", str(deployable), "--baseline", str(d.root / "baseline")], check=True,
                   capture_output=True)
    bundle = dist / "function"
    shipped = [p.relative_to(dist).as_posix() for p in bundle.rglob("*.py")]
    assert "function/netwarden/entrypoints/function.py" in shipped
    assert not [p for p in shipped if EMULATOR_FILES.search(p)]
    with zipfile.ZipFile(dist / "function.zip") as z:
        assert "netwarden/entrypoints/job.py" in z.namelist()
        assert not [n for n in z.namelist() if EMULATOR_FILES.search(n)]
    (wheel,) = (dist / "image" / "wheels").glob("netwarden-*.whl")
    with zipfile.ZipFile(wheel) as z:
        assert "netwarden/entrypoints/job.py" in z.namelist()
        assert not [n for n in z.namelist() if EMULATOR_FILES.search(n)]
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
    env = {"PATH": os.environ.get("PATH", ""), "NETWARDEN_FUNCTION_TOKEN": TOKEN, **d.env, **endpoints}
    env.pop("NETWARDEN_CONFIG")  # the bundle's own netwarden.yaml and baseline/ are the defaults
    out = subprocess.run([str(python), "-c", probe, json.dumps(params)], cwd=bundle, env=env, check=True,
                         capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(result["package"]).is_relative_to(bundle)
    answer = result["answer"]
    assert answer["statusCode"] == 200, answer
    assert answer["body"]["status"] == "planned" and len(answer["body"]["plan"]["steps"]) == 1

    # The job image: the Containerfile's steps (requirements, then the wheel with --no-deps) in the same
    # environment, then its entrypoint `netwarden job` on a cron trigger, against the emulators.
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-compile", "--no-index", "--no-deps",
                    str(wheel)], check=True, capture_output=True)
    probe = "import importlib.util as u, sys; sys.exit(u.find_spec('netwarden.fakes') is not None)"
    subprocess.run([str(python), "-c", probe], cwd=tmp_path, check=True)
    netwarden = str(env_dir / "bin" / "netwarden")
    job_env = {"PATH": os.environ.get("PATH", ""), **d.env, "CE_TYPE": "dev.knative.sources.ping",
               "NETWARDEN_BASELINE": str(d.root / "baseline")}
    run = subprocess.run([netwarden, "job"], cwd=d.root, env=job_env, capture_output=True, text=True, timeout=120,
                         check=False)
    assert run.returncode == 0, run.stderr
    records = sorted((d.root / "state" / "history").glob("*.json"))
    assert json.loads(records[-1].read_text(encoding="utf-8"))["status"] == "drift"
    demo = subprocess.run([netwarden, "demo"], cwd=tmp_path, env=job_env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert demo.returncode == 1 and "Traceback" not in demo.stderr
    assert "carries no emulators" in demo.stderr.strip().splitlines()[-1]


def test_the_bundle_carries_the_baseline_compiled_and_a_run_of_it_parses_no_yaml(tmp_path: Path) -> None:
    """``make package`` compiles the shipped baseline into its hidden ``.netwarden-compiled/``; the bundle's
    own netwarden, checking against that baseline, reads the compiled form (found by the files' content),
    never imports the baseline schema and writes no cache of its own."""
    from netwarden.adapters.baseline_fs import read_baseline
    from netwarden.core import snapshot_format

    dist = tmp_path / "dist"
    subprocess.run([sys.executable, str(ROOT / "infra" / "package.py"), "--out", str(dist), "--config",
                    str(tmp_path / "no-config.yaml"), "--baseline", str(ROOT / "baseline"), "--no-wheel"],
                   check=True, capture_output=True)
    for shipped in (dist / "function" / "baseline", dist / "image" / "deploy" / "baseline"):
        assert len(list((shipped / ".netwarden-compiled").glob("baseline-*.json"))) == 1, shipped
    bundle = dist / "function"
    (tmp_path / "live.json").write_text(snapshot_format.dumps(read_baseline(ROOT / "baseline")), encoding="utf-8")
    probe = ("import sys, netwarden; from netwarden.entrypoints.cli import main; code = main(sys.argv[1:]); "
             "print(netwarden.__file__, 'netwarden.adapters.baseline_schema' in sys.modules); sys.exit(code)")
    user_cache = tmp_path / "user-cache"
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(bundle), "HOME": str(tmp_path),
           "XDG_CACHE_HOME": str(user_cache)}
    run = subprocess.run([sys.executable, "-c", probe, "check", "--config", "netwarden.yaml", "--snapshot",
                          str(tmp_path / "live.json")], cwd=bundle, env=env, capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stderr
    package_file, parsed = run.stdout.strip().splitlines()[-1].rsplit(" ", 1)
    assert Path(package_file).is_relative_to(bundle)
    assert parsed == "False"
    assert not user_cache.exists()
