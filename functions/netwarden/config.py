"""Settings: the config file and the environment, read once, checked once, frozen.

Everything downstream takes a ``Settings`` (or the one value it needs), never a raw dict. Every
problem names the file, line and key. Secrets are never in the file: it names the environment
variables that hold them (``api_key_env``, ``webhook_url_env``...), and ``secret()`` reads them late.

Environment variables override the file, for Code Engine, where config comes from secrets and
config maps: ``NETWARDEN_BASELINE``, ``NETWARDEN_STATE``, ``NETWARDEN_REGIONS`` and ``NETWARDEN_VPCS``
(comma lists), ``NETWARDEN_VPC_URL``, ``NETWARDEN_IAM_URL``, ``NETWARDEN_REMEDIATION_MODE``,
``NETWARDEN_MAX_CHANGES``. ``NETWARDEN_CONFIG`` names the file. Relative paths in the file
(``baseline``, a ``file://`` state, a cluster's ``kubeconfig`` and ``ca_file``) are taken from the file's own directory.
An override gets the same checks as the key it replaces (``config_values``), its error naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from netwarden import config_sections as cs
from netwarden import config_values as cv
from netwarden.adapters import yaml_io
from netwarden.config_sections import MAX_CHANGES, NotifySettings, RemediationSettings, Suppression

__all__ = ["MAX_CHANGES", "NotifySettings", "RemediationSettings", "Settings", "Suppression", "secret"]
from netwarden.core.errors import ConfigError, Location

DEFAULT_VPC_URL = "https://{region}.iaas.cloud.ibm.com/v1"
DEFAULT_IAM_URL = "https://iam.cloud.ibm.com"
DEFAULT_CONFIG = "netwarden.yaml"


@dataclass(frozen=True, slots=True)
class IbmCloudSettings:
    regions: tuple[str, ...] = ("us-south",)
    vpcs: tuple[str, ...] | None = None
    resource_group: str | None = None
    api_key_env: str = "IBMCLOUD_API_KEY"
    vpc_url: str = DEFAULT_VPC_URL
    iam_url: str = DEFAULT_IAM_URL
    resource_manager_url: str | None = None

    def url_for(self, region: str) -> str:
        return self.vpc_url.replace("{region}", region)


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    name: str
    server: str | None = None
    kubeconfig: str | None = None
    context: str | None = None
    token_env: str | None = None
    #: With ``server``: the PEM file of the CA that signed the API server's certificate (IKS/ROKS sign it
    #: with the cluster's own CA); without it, the system's trust store.
    ca_file: str | None = None
    in_cluster: bool = False
    namespaces: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    baseline: Path = Path("baseline")
    ibmcloud: IbmCloudSettings | None = None
    clusters: tuple[ClusterSettings, ...] = ()
    state: str = "file://.netwarden/state"
    notify: NotifySettings = field(default_factory=NotifySettings)
    remediation: RemediationSettings = field(default_factory=RemediationSettings)
    suppressions: tuple[Suppression, ...] = ()
    #: ``security_groups.ibm_churn``: ``expected`` (IBM's documented changes to its groups are no finding,
    #: counted in a note) or ``drift`` (reported like any change).
    ibm_churn: str = "expected"
    #: Where the compiled baseline is kept (``adapters.baseline_cache``): True the default place, False none.
    #: How long run history records are kept (``history.retention``; ``app.history``).
    history_retention: int = 90 * 24 * 3600
    baseline_cache: Path | bool = True
    source: str = "<defaults>"

    @classmethod
    def load(cls, path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``path`` (or ``$NETWARDEN_CONFIG``, or ``./netwarden.yaml``), then apply the environment."""
        env = os.environ if environ is None else environ
        explicit = path is not None or "NETWARDEN_CONFIG" in env
        file = Path(path if path is not None else env.get("NETWARDEN_CONFIG", DEFAULT_CONFIG))
        if file.exists():
            settings = parse(yaml_io.load(file, error=ConfigError), base=file.parent)
        elif explicit:
            raise ConfigError("config file not found", location=Location(str(file)))
        else:
            settings = cls()
        return settings.with_environment(env)

    def with_environment(self, env: Mapping[str, str]) -> Settings:
        s = self
        if env.get("NETWARDEN_BASELINE"):
            s = replace(s, baseline=Path(env["NETWARDEN_BASELINE"]))
        if env.get("NETWARDEN_STATE"):
            s = replace(s, state=env["NETWARDEN_STATE"])
        regions, vpcs = _csv(env, "NETWARDEN_REGIONS", "region"), _csv(env, "NETWARDEN_VPCS", "vpc")
        vpc_url, iam_url = env.get("NETWARDEN_VPC_URL"), env.get("NETWARDEN_IAM_URL")
        if vpc_url:
            cv.url(vpc_url, Location("NETWARDEN_VPC_URL"), template=True)
        if iam_url:
            cv.url(iam_url, Location("NETWARDEN_IAM_URL"))
        if regions or vpcs or vpc_url or iam_url:
            ibm = s.ibmcloud or IbmCloudSettings()
            s = replace(s, ibmcloud=replace(
                ibm,
                regions=regions or ibm.regions,
                vpcs=vpcs or ibm.vpcs,
                vpc_url=vpc_url or ibm.vpc_url,
                iam_url=iam_url or ibm.iam_url,
            ))
        rem = s.remediation
        if env.get("NETWARDEN_REMEDIATION_MODE"):
            name = "NETWARDEN_REMEDIATION_MODE"
            rem = replace(rem, mode=cs.mode_value(env[name], Location(name)))
        if env.get("NETWARDEN_MAX_CHANGES"):
            where = Location("NETWARDEN_MAX_CHANGES")
            rem = replace(rem, max_changes=cv.whole_text(env["NETWARDEN_MAX_CHANGES"], where, high=MAX_CHANGES))
        return replace(s, remediation=rem)


def secret(env_name: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The value of the environment variable a config key names; None when unset or empty."""
    if not env_name:
        return None
    return (os.environ if environ is None else environ).get(env_name) or None


# --- parsing -------------------------------------------------------------------------------------

_TOP = {"baseline", "baseline_cache", "ibmcloud", "kubernetes", "state", "notify", "remediation", "suppressions",
        "security_groups", "history"}
_IBM = {"regions", "vpcs", "resource_group", "api_key_env", "vpc_url", "iam_url", "resource_manager_url"}
_CLUSTER = {"name", "server", "kubeconfig", "context", "token_env", "ca_file", "in_cluster", "namespaces"}
_URLS = ("vpc_url", "iam_url", "resource_manager_url")


def parse(doc: yaml_io.YamlDoc, *, base: Path = Path(".")) -> Settings:
    data = doc.data if doc.data is not None else {}
    cs.check_mapping(doc, (), data, _TOP)
    settings = Settings(source=doc.file)
    if "baseline" in data:
        settings = replace(settings, baseline=base / cs.text(doc, ("baseline",), data["baseline"]))
    if "state" in data:
        state = cs.text(doc, ("state",), data["state"])
        if state.startswith("file://") and not state.startswith("file:///"):
            state = f"file://{base / state[len('file://'):]}"
        settings = replace(settings, state=state)
    if data.get("baseline_cache") is not None:
        cache = data["baseline_cache"]
        if not isinstance(cache, bool) and not (isinstance(cache, str) and cache):
            raise ConfigError("expected a directory or false", location=doc.where(("baseline_cache",)))
        settings = replace(settings, baseline_cache=cache if isinstance(cache, bool)
                           else base / Path(cache).expanduser())
    if data.get("ibmcloud") is not None:
        settings = replace(settings, ibmcloud=_ibmcloud(doc, data["ibmcloud"]))
    if data.get("kubernetes") is not None:
        clusters = _clusters(doc, data["kubernetes"])
        def here(path: str | None) -> str | None:
            return str(base / path) if path and not Path(path).is_absolute() and not path.startswith("~") else path

        settings = replace(settings, clusters=tuple(replace(c, kubeconfig=here(c.kubeconfig), ca_file=here(c.ca_file))
                                                    for c in clusters))
    if data.get("notify") is not None:
        settings = replace(settings, notify=cs.notify_section(doc, data["notify"]))
    if data.get("remediation") is not None:
        settings = replace(settings, remediation=cs.remediation_section(doc, data["remediation"]))
    if data.get("suppressions") is not None:
        settings = replace(settings, suppressions=cs.suppressions_section(doc, data["suppressions"]))
    if data.get("history") is not None:
        cs.check_mapping(doc, ("history",), data["history"], {"retention"})
        if "retention" in data["history"]:
            where = doc.where(("history", "retention"))
            retention = cv.duration(data["history"]["retention"], where)
            if retention < 86400:
                raise ConfigError("keep at least a day of history (1d)", location=where)
            settings = replace(settings, history_retention=retention)
    if data.get("security_groups") is not None:
        cs.check_mapping(doc, ("security_groups",), data["security_groups"], {"ibm_churn"})
        churn = data["security_groups"].get("ibm_churn", "expected")
        if churn not in ("expected", "drift"):
            raise ConfigError(f"{churn!r} is not 'expected' or 'drift'", location=doc.where(("security_groups",
                                                                                                "ibm_churn")))
        settings = replace(settings, ibm_churn=churn)
    return settings


def _ibmcloud(doc: yaml_io.YamlDoc, raw: Any) -> IbmCloudSettings:
    p = ("ibmcloud",)
    cs.check_mapping(doc, p, raw, _IBM)
    s = IbmCloudSettings()
    if "regions" in raw:
        s = replace(s, regions=_ids(doc, (*p, "regions"), raw["regions"], "region", non_empty=True))
    if raw.get("vpcs") is not None:
        s = replace(s, vpcs=_ids(doc, (*p, "vpcs"), raw["vpcs"], "vpc"))
    text = {key: cs.text(doc, (*p, key), raw[key]) for key in
            ("resource_group", "api_key_env", "vpc_url", "iam_url", "resource_manager_url") if raw.get(key) is not None}
    for key in _URLS:
        if key in text:
            cv.url(text[key], doc.where((*p, key)), template=key == "vpc_url")
    return replace(
        s,
        resource_group=text.get("resource_group", s.resource_group),
        api_key_env=text.get("api_key_env", s.api_key_env),
        vpc_url=text.get("vpc_url", s.vpc_url),
        iam_url=text.get("iam_url", s.iam_url),
        resource_manager_url=text.get("resource_manager_url", s.resource_manager_url),
    )


def _clusters(doc: yaml_io.YamlDoc, raw: Any) -> tuple[ClusterSettings, ...]:
    cs.check_mapping(doc, ("kubernetes",), raw, {"clusters"})
    items = raw.get("clusters") or []
    p: yaml_io.PathKey = ("kubernetes", "clusters")
    if not isinstance(items, list):
        raise ConfigError("expected a list of clusters", location=doc.where(p))
    out: list[ClusterSettings] = []
    for i, item in enumerate(items):
        q = (*p, i)
        cs.check_mapping(doc, q, item, _CLUSTER)
        if "name" not in item:
            raise ConfigError("a cluster needs a name", location=doc.where(q, f"{yaml_io.dotted(q)}.name"))
        text = {key: cs.text(doc, (*q, key), item[key]) for key in ("server", "kubeconfig", "context", "token_env",
                                                                  "ca_file") if item.get(key) is not None}
        if "server" in text:
            cv.url(text["server"], doc.where((*q, "server")))
        c = ClusterSettings(name=cv.identifier(item["name"], "cluster", doc.where((*q, "name"))),
                            server=text.get("server"),
                            kubeconfig=text.get("kubeconfig"), context=text.get("context"),
                            token_env=text.get("token_env"), ca_file=text.get("ca_file"))
        if item.get("in_cluster") is not None:
            c = replace(c, in_cluster=cs.flag(doc, (*q, "in_cluster"), item["in_cluster"]))
        if item.get("namespaces") is not None:
            c = replace(c, namespaces=_ids(doc, (*q, "namespaces"), item["namespaces"], "namespace"))
        if not (c.server or c.kubeconfig or c.in_cluster):
            raise ConfigError("a cluster needs server, kubeconfig or in_cluster: true", location=doc.where(q))
        out.append(c)
    names = [c.name for c in out]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ConfigError(f"duplicate cluster name {name!r}", location=doc.where((*p, i, "name")))
    return tuple(out)


def _ids(doc: yaml_io.YamlDoc, path: yaml_io.PathKey, value: Any, kind: str, *,
         non_empty: bool = False) -> tuple[str, ...]:
    """A list of identifiers of one ``kind`` (``config_values.KINDS``), each refused at its own line."""
    items = cs.str_list(doc, path, value, non_empty=non_empty)
    for i, item in enumerate(items):
        cv.identifier(item, kind, doc.where((*path, i)))
    return items


def _csv(env: Mapping[str, str], name: str, kind: str) -> tuple[str, ...] | None:
    """A comma list of identifiers from the environment variable ``name``; None when unset or empty."""
    value = env.get(name)
    if not value:
        return None
    return cv.identifiers(tuple(v.strip(" \t") for v in value.split(",") if v.strip(" \t")), kind, Location(name))
