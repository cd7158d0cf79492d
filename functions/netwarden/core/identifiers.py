"""The shapes of the names and ids that netwarden puts into API URLs, in one place.

A region becomes part of the VPC endpoint's host, a resource id a path segment, a VPC name a query
value, a namespace a Kubernetes API path. Whether such a value comes from the config file, the
environment or an Activity Tracker event, it must not be able to change the request it goes into, so
each is held to the narrowest ASCII shape IBM Cloud and Kubernetes give it: no ``/``, ``?``, ``#``,
``%``, ``.``, whitespace or control character can match any of these.
"""

from __future__ import annotations

import re

#: A region (``us-south``, ``eu-de``, ``jp-tok``): lowercase words joined by hyphens.
REGION = re.compile(r"[a-z]{2,}(?:-[a-z]{2,}){1,3}")
#: A zone: a region and its number (``us-south-1``).
ZONE = re.compile(rf"(?:{REGION.pattern})-[0-9]{{1,2}}")
#: A VPC resource name as IBM allows it (lowercase letters, digits, hyphens; at most 63).
NAME = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?")
#: A VPC resource id (``r006-4727d842-f94f-4a2d-824a-9bc9b02c523b``, ``0717-7ec86020-...``).
RESOURCE_ID = re.compile(r"[0-9a-z](?:[-_0-9a-z]{0,126}[0-9a-z])?")
#: A VPC given by name or by id.
VPC = re.compile(rf"(?:{NAME.pattern})|(?:{RESOURCE_ID.pattern})")
#: A Kubernetes name of the DNS-1123 label kind (a namespace; netwarden's name of a cluster).
DNS_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?")
#: The longest region name netwarden accepts.
REGION_MAX = 32


def is_region(text: str) -> bool:
    return len(text) <= REGION_MAX and REGION.fullmatch(text) is not None


def is_zone(text: str) -> bool:
    return len(text) <= REGION_MAX + 3 and ZONE.fullmatch(text) is not None
