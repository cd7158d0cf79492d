"""What each command's ``--help`` says beyond its options: what it does, an example, and its exit codes.

Kept as data, apart from the parser (``entrypoints.cli``), so that the help of every command has the
same three parts and the README's command table and this page can be read side by side. The exit codes
are ``entrypoints.exits``'s: 0 ok or in sync, 1 error, 2 drift, 3 incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Help:
    summary: str
    description: str
    example: str
    exits: tuple[tuple[int, str], ...]

    def epilog(self) -> str:
        codes = "\n".join(f"  {code}  {meaning}" for code, meaning in self.exits)
        example = "\n".join(f"  {line}" for line in self.example.splitlines())
        return f"example:\n{example}\n\nexit codes:\n{codes}"


_ERROR = (1, "error: bad config, baseline, credentials or an unreachable API (one line on stderr)")
_INCOMPLETE = (3, "incomplete: a region, VPC or cluster could not be read (never taken as empty)")
_RAN = ((0, "the run ran, drift or not"), (1, "it failed, or an alert is still pending for the next run"))

COMMANDS: dict[str, Help] = {
    "snapshot": Help(
        "live state -> canonical snapshot JSON",
        "Read the VPCs and clusters in scope and write them as one canonical snapshot (docs/snapshot-format.md): "
        "a file `check --snapshot` can check later, or elsewhere.",
        "netwarden snapshot --out live.json",
        ((0, "written"), _ERROR, _INCOMPLETE)),
    "check": Help(
        "baseline vs live state (or a snapshot file)",
        "Compare the live state (or --snapshot FILE) with the baseline and say what drifted, what each change "
        "opens or closes, and how bad it is.",
        "netwarden check\nnetwarden check -o sarif --out results.sarif",
        ((0, "in sync"), (2, "drift"), _INCOMPLETE, _ERROR)),
    "remediate": Help(
        "plan (and with --apply, execute and verify) the way back to the baseline",
        "Plan the writes that bring the live state back to the baseline, ordered so that no step opens more "
        "than before, and refuse plans the safeguards do not allow. Nothing is written without --apply; with "
        "it, every step is applied, the state re-read and the result verified. --out FILE saves the plan of a "
        "dry run with the live state it was made from; --apply-plan FILE applies exactly that plan, and refuses "
        "it once the live state has moved; --approve ID does the same for a plan stored for approval "
        "(remediation.mode: approve, the function's plan request).",
        "netwarden remediate --only acl-rule-missing\nnetwarden remediate --apply --max-changes 10\n"
        "netwarden remediate --out plan.json\nnetwarden remediate --apply-plan plan.json",
        ((0, "in sync afterwards"), (2, "drift remains, or a plan only (no --apply)"),
         (3, "incomplete: nothing was changed"), _ERROR)),
    "scan": Help(
        "the scheduled job: snapshot, check, alert, remediate, persist",
        "One scheduled run: read everything in scope, check it, remediate what remediation.mode allows, alert "
        "each channel what it has not been told, and keep the finding state and the run history.",
        "netwarden scan --config netwarden.yaml",
        _RAN),
    "event": Help(
        "one Activity Tracker event -> targeted check -> alert",
        "Re-read the one network ACL, subnet or security group an Activity Tracker event names (at most three "
        "VPC API calls) and alert what drifted there.",
        "netwarden event --payload event.json",
        _RAN),
    "job": Help(
        "the Code Engine job command (dispatches on CE_TYPE)",
        "What the job image runs: CE_TYPE cron (or none) -> scan, of the shard JOB_INDEX of JOB_ARRAY_SIZE; "
        "CE_TYPE Kafka -> event, with the event in CE_DATA.",
        "CE_TYPE=dev.knative.sources.ping netwarden job",
        _RAN),
    "watch": Help(
        "the resident watcher: watch the clusters and take Activity Tracker events, alert in seconds",
        "Watch each cluster's NetworkPolicies and namespaces, take Activity Tracker events as CloudEvents on "
        "POST /events, serve /remediate, /healthz and /readyz; re-check what each change touched and alert "
        "within about a second (docs/watcher.md). Runs until SIGTERM.",
        "netwarden watch --listen 127.0.0.1:8080",
        ((0, "stopped by SIGTERM or SIGINT"), (1, "it could not start (one line on stderr)"))),
    "explain": Help(
        "does one flow reach a subnet or pod (or leave it), layer by layer, and which rule decides",
        "Answer for one flow, for the baseline and the live state: allowed, blocked or partly, at each layer "
        "(the subnet's ACL and its reply, the workers' security groups, the public gateway, the pods' "
        "NetworkPolicies), with the rule that decides each.",
        "netwarden explain --from 0.0.0.0/0 --to iks-vpc-us-south-1 --port 22\n"
        "netwarden explain --from accounts/srv1-backend --to accounts/srv1-db --port 5432",
        ((0, "answered"), _ERROR)),
    "history": Help(
        "how drift has developed: runs, findings opened and resolved, time to resolve, who changed what",
        "Summarize the run records in the state store (one per scan, event or watcher run, kept for "
        "history.retention, 90d unless the config says): runs by kind and outcome, findings opened, changed "
        "and resolved, the median and longest time to resolve, the most drifted resources, and who made each "
        "change where an Activity Tracker event named them.",
        "netwarden history --since 7d\nnetwarden history --since 30d -o html --out history.html",
        ((0, "shown"), _ERROR)),
    "baseline": Help(
        "capture or lint a baseline",
        "Write the live state as baseline files, or check a baseline's schema and the recipe's rules.",
        "netwarden baseline capture\nnetwarden baseline lint baseline/",
        ((0, "done"), _ERROR)),
    "baseline capture": Help(
        "live state -> baseline files",
        "Write the live state as baseline files. Over a baseline that differs from the live state, list what "
        "would be added (A), changed (M) and removed (D) and write nothing unless --force.",
        "netwarden baseline capture --out baseline/",
        ((0, "written, or nothing to do"), (1, "error, or the baseline differs and nothing was written"),
         (3, "incomplete: nothing was written"))),
    "baseline accept": Help(
        "take the live state of chosen findings' resources into the baseline",
        "Write the live form of exactly the resources the chosen findings are about (a rule, a subnet's "
        "attachment, a policy, a namespace's labels) into the baseline files, as the smallest diff a pull request "
        "can review, and say what changed. Choose by fingerprint, --code, --resource or --all; a finding that "
        "cannot take a live form is refused with the reason. Review with git diff, then commit.",
        "netwarden baseline accept 3f2a9c1e0b7d4a65 && git diff baseline/",
        ((0, "accepted and written"), (1, "nothing written: nothing selected, a named finding refused, an error"))),
    "baseline lint": Help(
        "schema and recipe checks of a baseline directory",
        "Check every file's schema and the recipe's rules (deny-all last, one gateway subnet, IBM's private "
        "ranges, secure-by-default security groups...), each finding as file:line: rule: why. With -c/--config, "
        "the config's suppressions too: expired, expiring within a week, matching no finding the last scans left "
        "open.",
        "netwarden -c netwarden.yaml baseline lint -o json",
        ((0, "clean"), (2, "findings"), (1, "a file cannot be read: the first problem of each"))),
    "fake": Help(
        "run the embedded IBM Cloud and Kubernetes emulators",
        "The emulators netwarden's tests and demo run against: the VPC API, IAM, the Kubernetes API, Slack and "
        "Event Notifications recorders.",
        "netwarden fake serve --port 8765 --write-config .netwarden/netwarden.yaml --detach",
        ((0, "served"), _ERROR)),
    "fake serve": Help(
        "serve the emulators until stopped",
        "Serve the emulators on one port, with a scenario built in them, until stopped (or, with --detach, in "
        "the background once serving).",
        "netwarden fake serve --port 8765 --scenario recipe --pid-file .netwarden/fake.pid --detach",
        ((0, "served (or, with --detach, serving)"), (1, "could not start"))),
    "demo": Help(
        "the recipe cluster end to end on the embedded emulators",
        "Build the recipe estate on the emulators, drift it as a careless operator would, and show the checks, "
        "the alerts, the remediation and the verifying scan.",
        "netwarden demo --workdir /tmp/netwarden-demo",
        ((0, "done"), _ERROR)),
    "version": Help("print the version", "Print netwarden's version and the Python it runs on.",
                    "netwarden version", ((0, "printed"),)),
    "help": Help("show the help of a command", "Show the help of COMMAND (and its SUBCOMMAND), or the overview.",
                 "netwarden help check\nnetwarden help baseline capture", ((0, "shown"), (1, "no such command"))),
    "completion": Help(
        "print a shell completion script",
        "Print a completion script of the commands and their options for bash or zsh.",
        'eval "$(netwarden completion bash)"', ((0, "printed"),)),
}
