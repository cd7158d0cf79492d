"""The command line as kubectl and terraform users expect it: global options before or after the
command, ``--version`` and ``version``, ``help [COMMAND]``, ``-c``/``-o``, every command's help with a
description, an example and its exit codes, shell completion; colour on a terminal only (and never
with ``NO_COLOR`` or ``--no-color``); a file written is said on stderr."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from netwarden import __version__
from netwarden.adapters.baseline_fs import read_baseline
from netwarden.core import snapshot_format
from netwarden.core.model import Snapshot
from netwarden.entrypoints.cli_help import COMMANDS

BASELINE = Path(__file__).resolve().parents[2] / "baseline"


def run(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("NETWARDEN_CONFIG", "NO_COLOR")} | (env or {})
    return subprocess.run([sys.executable, "-m", "netwarden", *argv], cwd=cwd, env=environ, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config naming the recipe baseline, an in-sync snapshot of it and a drifted one."""
    root = tmp_path_factory.mktemp("cli")
    (root / "netwarden.yaml").write_text(f"baseline: {BASELINE}\n", encoding="utf-8")
    baseline = read_baseline(BASELINE)
    (root / "in-sync.json").write_text(snapshot_format.dumps(baseline), encoding="utf-8")
    vpc = baseline.vpcs[0]
    drifted = Snapshot(vpcs=(vpc.__class__(vpc.region, vpc.name, id=vpc.id, acls=vpc.acls[1:], subnets=vpc.subnets,
                                           security_groups=vpc.security_groups, default_acl=vpc.default_acl),),
                       clusters=baseline.clusters)
    (root / "drift.json").write_text(snapshot_format.dumps(drifted), encoding="utf-8")
    return root


@pytest.mark.parametrize("argv", [
    ("--config", "netwarden.yaml", "check", "--snapshot", "in-sync.json"),
    ("-c", "netwarden.yaml", "check", "--snapshot", "in-sync.json"),
    ("check", "-c", "netwarden.yaml", "--snapshot", "in-sync.json"),
    ("check", "--snapshot", "in-sync.json", "--config", "netwarden.yaml"),
    ("--debug", "check", "--snapshot", "in-sync.json", "-c", "netwarden.yaml"),
    ("--no-color", "--config", "netwarden.yaml", "check", "--debug", "--snapshot", "in-sync.json"),
], ids=" ".join)
def test_global_options_go_before_or_after_the_command(workspace: Path, argv: tuple[str, ...]) -> None:
    done = run(*argv, cwd=workspace)
    assert (done.returncode, done.stdout.splitlines()[0], done.stderr) == (0, "netwarden check: in sync: no drift", "")


def test_a_config_given_before_the_command_holds_and_one_after_it_wins(workspace: Path) -> None:
    done = run("--config", "missing.yaml", "check", "--snapshot", "in-sync.json", "--config", "netwarden.yaml",
               cwd=workspace)
    assert done.returncode == 0, done.stderr
    done = run("--config", "missing.yaml", "check", "--snapshot", "in-sync.json", cwd=workspace)
    assert (done.returncode, done.stderr.strip()) == (1, "netwarden: error: missing.yaml: config file not found")


@pytest.mark.parametrize("argv", [("--version",), ("version",), ("--debug", "version")])
def test_the_version(workspace: Path, argv: tuple[str, ...]) -> None:
    done = run(*argv, cwd=workspace)
    assert done.returncode == 0 and done.stdout.startswith(f"netwarden {__version__} (Python ")


@pytest.mark.parametrize("topic", sorted(COMMANDS), ids=str)
def test_every_command_says_what_it_does_shows_an_example_and_its_exit_codes(workspace: Path, topic: str) -> None:
    done = run("help", *topic.split(), cwd=workspace)
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert " ".join(COMMANDS[topic].description.split()) in text
    assert "example: netwarden" in text or "example: CE_TYPE" in text or "example: eval" in text
    assert "exit codes: 0 " in text
    assert done.stdout == run(*topic.split(), "--help", cwd=workspace).stdout


def test_help_without_a_command_lists_them_and_an_unknown_one_is_one_line(workspace: Path) -> None:
    listing = run("help", cwd=workspace)
    assert listing.returncode == 0 and all(name in listing.stdout for name in ("check", "watch", "baseline"))
    unknown = run("help", "chekc", cwd=workspace)
    assert unknown.returncode == 1 and unknown.stderr.count("\n") == 1 and "no command 'chekc'" in unknown.stderr
    bare = run(cwd=workspace)
    assert bare.returncode == 1 and "a command is required" in bare.stderr


def test_dash_o_is_the_format(workspace: Path) -> None:
    short = run("-c", "netwarden.yaml", "check", "--snapshot", "drift.json", "-o", "json", cwd=workspace)
    long = run("-c", "netwarden.yaml", "check", "--snapshot", "drift.json", "--format", "json", cwd=workspace)
    assert short.returncode == long.returncode == 2
    a, b = json.loads(short.stdout), json.loads(long.stdout)
    assert a["findings"] and {**a, "generated_at": None} == {**b, "generated_at": None}


def test_a_written_file_is_said_on_stderr_and_stdout_stays_empty(workspace: Path) -> None:
    done = run("-c", "netwarden.yaml", "check", "--snapshot", "drift.json", "-o", "sarif", "--out", "r.sarif",
               cwd=workspace)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("netwarden: wrote the sarif report (drift, ") and "to r.sarif (" in done.stderr
    assert (workspace / "r.sarif").stat().st_size > 0


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completion_completes_commands_and_options(workspace: Path) -> None:
    script = run("completion", "bash", cwd=workspace).stdout
    probe = (f'{script}\nCOMP_WORDS=(netwarden che); COMP_CWORD=1; _netwarden; echo "${{COMPREPLY[@]}}"\n'
             'COMP_WORDS=(netwarden baseline lint --f); COMP_CWORD=3; _netwarden; echo "${COMPREPLY[@]}"\n')
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30, check=True).stdout
    assert out.splitlines() == ["check", "--format"]


def on_a_terminal(workspace: Path, *argv: str, env: dict[str, str] | None = None) -> str:
    """What the command prints when its stdout is a terminal (a pseudo-terminal this test opens)."""
    leader, follower = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k not in ("NETWARDEN_CONFIG", "NO_COLOR")}
    environ |= {"COLUMNS": "100"} | (env or {})
    process = subprocess.Popen([sys.executable, "-m", "netwarden", *argv], cwd=workspace, env=environ,
                               stdout=follower, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    os.close(follower)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 60)
            if not ready:
                break
            try:
                data = os.read(leader, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(leader)
        process.wait(timeout=60)
    return b"".join(chunks).decode("utf-8", "replace")


def test_severity_is_coloured_on_a_terminal_unless_told_not_to(workspace: Path) -> None:
    argv = ("-c", "netwarden.yaml", "check", "--snapshot", "drift.json")
    assert "\x1b[" in on_a_terminal(workspace, *argv)
    assert "\x1b[" not in on_a_terminal(workspace, *argv, env={"NO_COLOR": "1"})
    assert "\x1b[" not in on_a_terminal(workspace, "--no-color", *argv)
    assert "\x1b[" not in run(*argv, cwd=workspace).stdout, "a pipe gets plain text"
