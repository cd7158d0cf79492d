"""The Kubernetes API server's syntax rules for names, labels, ports and CIDRs, with its own messages.

``netpol_validate`` checks a NetworkPolicy as the API server does, and the baseline reader checks
namespace and workload labels the same way; both need the rules below, worded as the server words
them, so that a message in a baseline error reads like the one ``kubectl apply`` would print. Each
function returns a list of messages (empty when the value is valid), as the upstream functions do:
``IsDNS1123Subdomain``, ``IsDNS1123Label``, ``IsLabelKey`` (``IsQualifiedName``), ``IsLabelValue``,
``IsValidPortName`` and the CIDR parser of ``IsValidCIDRForLegacyField``.

CIDRs are checked as a current API server checks them, with ``StrictIPCIDRValidation`` on (the
default from Kubernetes 1.36): leading zeros, IPv4-mapped IPv6 addresses and bits set beyond the
prefix length are refused.
"""

from __future__ import annotations

import functools
import ipaddress
import re

#: The message of a CIDR with bits set beyond its prefix length (``10.0.0.1/24``).
HOST_BITS = "must not have bits set beyond the prefix length"
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character"
)
_LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_KEY_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
)
_LABEL_VALUE_FMT = "(" + _LABEL_KEY_FMT + ")?"
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character"
)

_DNS1123_LABEL = re.compile(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN = re.compile(_DNS1123_SUBDOMAIN_FMT)
_LABEL_KEY = re.compile(_LABEL_KEY_FMT)
_LABEL_VALUE = re.compile(_LABEL_VALUE_FMT)
_PORT_NAME_CHARS = re.compile("[-a-z0-9]+")
_IPV4_SLOPPY = re.compile(r"\d{1,3}(\.\d{1,3}){3}")


def regex_error(message: str, regex: str, *examples: str) -> str:
    """The server's explanation of a failed pattern (``RegexError``), double spaces included."""
    if not examples:
        return f"{message} (regex used for validation is '{regex}')"
    out = message + " (e.g. "
    for i, example in enumerate(examples):
        if i:
            out += " or "
        out += f"'{example}', "
    return out + f"regex used for validation is '{regex}')"


def dns1123_subdomain(value: str, *, unit: str = "characters") -> list[str]:
    """``IsDNS1123Subdomain``: object names such as a NetworkPolicy's ``metadata.name``."""
    errors = []
    if len(value) > 253:
        errors.append(f"must be no more than 253 {unit}")
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        errors.append(regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errors


def dns1123_label(value: str) -> list[str]:
    """``IsDNS1123Label``: namespace names."""
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if not _DNS1123_LABEL.fullmatch(value):
        if _DNS1123_SUBDOMAIN.fullmatch(value):
            errors.append("must not contain dots")
        else:
            errors.append(regex_error(_DNS1123_LABEL_MSG, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errors


def label_key(value: str) -> list[str]:
    """``IsLabelKey`` (a "qualified name"): an optional DNS subdomain prefix and '/', then a name part."""
    errors: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            errors.extend("prefix part " + m for m in dns1123_subdomain(prefix, unit="bytes"))
    else:
        return [
            "a valid label key " + regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 bytes")
    if not _LABEL_KEY.fullmatch(name):
        errors.append("name part " + regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc"))
    return errors


def label_value(value: str) -> list[str]:
    """``IsLabelValue``: empty, or up to 63 alphanumerics with '-', '_' or '.' inside."""
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 bytes")
    if not _LABEL_VALUE.fullmatch(value):
        errors.append(regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errors


def port_name(value: str) -> list[str]:
    """``IsValidPortName`` (IANA_SVC_NAME): a named port of a NetworkPolicy."""
    errors = []
    if len(value) > 15:
        errors.append("must be no more than 15 characters")
    if not _PORT_NAME_CHARS.fullmatch(value):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", value):
        errors.append("must contain at least one letter (a-z)")
    if "--" in value:
        errors.append("must not contain consecutive hyphens")
    if value and (value[0] == "-" or value[-1] == "-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def port_number(value: int) -> list[str]:
    """``IsValidPortNum``."""
    return [] if 1 <= value <= 65535 else ["must be between 1 and 65535, inclusive"]


def parse_cidr_sloppy(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """What ``ParseCIDRSloppy`` accepts (leading zeros allowed), as the network it names; None if nothing."""
    address, sep, prefix = value.partition("/")
    if not sep or not prefix.isascii() or not prefix.isdigit():
        return None
    try:
        if _IPV4_SLOPPY.fullmatch(address):
            octets = [int(o) for o in address.split(".")]
            if any(o > 255 for o in octets) or int(prefix) > 32:
                return None
            ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address(".".join(map(str, octets)))
        elif ":" in address:
            ip = ipaddress.IPv6Address(address)
            if int(prefix) > 128:
                return None
        else:
            return None
        return ipaddress.ip_network(f"{ip}/{int(prefix)}", strict=False)
    except ValueError:
        return None


def cidr(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network | None, list[str]]:
    """``IsValidCIDRForLegacyField`` with strict validation: the parsed network (None when it does not
    parse at all) and the messages."""
    network, messages = _cidr(value)
    return network, list(messages)


@functools.lru_cache(maxsize=65536)
def _cidr(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network | None, tuple[str, ...]]:
    """``cidr``, cached: policies name the same blocks over and over (networks are immutable)."""
    network = parse_cidr_sloppy(value)
    if network is None:
        return None, ("must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",)
    address, _, prefix = value.partition("/")
    try:
        strict = ipaddress.ip_network(value, strict=False)
    except ValueError:
        strict = None
    if strict is None or (len(prefix) > 1 and prefix.startswith("0")):
        return network, ("must not have leading 0s in IP or prefix length",)
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return network, ("must not have an IPv4-mapped IPv6 address",)
    if ip != strict.network_address:
        return network, (HOST_BITS,)
    return network, ()
