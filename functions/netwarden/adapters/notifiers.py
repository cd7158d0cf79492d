"""Notifiers by name: ``notify.<name>`` in the config picks a builder registered here.

A builder takes the channel's config block and a ``NotifierEnv`` and returns a ``core.ports.Notifier``.
Each channel module registers itself on import and imports its SDK only when it sends.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from netwarden.adapters.delivery import NotifierEnv
from netwarden.core.errors import ConfigError, Location
from netwarden.core.ports import Notifier

Builder = Callable[[Mapping[str, Any], NotifierEnv], Notifier]

REGISTRY: dict[str, Builder] = {}
MODULES = {name: f"netwarden.adapters.{name}" for name in ("slack", "email", "event_notifications", "webhook")}


def register(name: str) -> Callable[[Builder], Builder]:
    def add(builder: Builder) -> Builder:
        REGISTRY[name] = builder
        return builder

    return add


def build(channels: Mapping[str, Mapping[str, Any]], env: NotifierEnv) -> list[Notifier]:
    """One notifier per configured channel, in config order; an unknown name is a config error."""
    out = []
    for name, block in channels.items():
        if name not in REGISTRY and name in MODULES:
            importlib.import_module(MODULES[name])
        if name not in REGISTRY:
            raise ConfigError(f"no such channel (expected one of: {', '.join(sorted(MODULES))})",
                              location=Location(env.source, field=f"notify.{name}"))
        out.append(REGISTRY[name](block, env))
    return out
