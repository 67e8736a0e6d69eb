"""Where the server can be reached: whether a bind address keeps it on this machine,
and the names and addresses a browser elsewhere uses to reach it (the URL to log,
the names a TLS certificate must cover).

Addresses come from the interfaces (psutil); the one to show first is the source
address of the default route (a UDP socket's ``connect`` picks it without sending
anything), so a docker bridge listed before the Wi-Fi does not win.
"""

from __future__ import annotations

import ipaddress
import socket

import psutil

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")
WILDCARDS = ("", "0.0.0.0", "::")
# names and addresses this machine's own browsers use; every certificate made here covers them
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    """True when binding ``host`` keeps the server on this machine (127.0.0.0/8, ::1, localhost)."""
    host = host.strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """True when ``host`` binds every interface (0.0.0.0, ::, or empty)."""
    return host.strip().strip("[]") in WILDCARDS


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
        return True
    except ValueError:
        return False


def url_host(host: str) -> str:
    """``host`` as it goes into a URL (IPv6 in brackets)."""
    host = host.strip("[]")
    return f"[{host}]" if ":" in host else host


def machine_addresses() -> list[str]:
    """This machine's non-loopback addresses, the default route's first (IPv4 before
    IPv6; IPv6 link-local addresses are left out: they need a zone to be used)."""
    found: list[str] = []
    try:
        interfaces = psutil.net_if_addrs()
    except OSError:
        interfaces = {}
    for addrs in interfaces.values():
        for addr in addrs:
            if addr.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            try:
                ip = ipaddress.ip_address(addr.address.split("%", 1)[0])
            except ValueError:
                continue
            if ip.is_loopback or ip.is_unspecified or (ip.version == 6 and ip.is_link_local):
                continue
            found.append(str(ip))
    primary = _default_route_address()
    ordered = ([primary] if primary in found else []) + sorted(
        (a for a in found if a != primary), key=lambda a: (":" in a, a))
    return list(dict.fromkeys(ordered))


def _default_route_address() -> str | None:
    """The source address of the IPv4 default route (no packet is sent), or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))   # TEST-NET-1: any routed address works
            return str(s.getsockname()[0])
    except OSError:
        return None


def machine_names() -> list[str]:
    """This machine's host name (and its fully qualified name, when it has another)."""
    names = [socket.gethostname()]
    try:
        names.append(socket.getfqdn())
    except OSError:
        pass
    return [n for n in dict.fromkeys(n.strip().lower() for n in names)
            if n and not is_loopback(n) and not is_ip(n)]


def reach_hosts(host: str) -> list[str]:
    """The hosts a browser elsewhere may use to reach a server bound to ``host``,
    the one to show first: the bound address itself, or for a wildcard bind this
    machine's addresses and then its names."""
    if not is_wildcard(host):
        return [host.strip().strip("[]")]
    return machine_addresses() + machine_names() or ["127.0.0.1"]


def certificate_names(host: str) -> list[str]:
    """What a certificate for a server bound to ``host`` must cover: the bound address,
    this machine's host names and non-loopback addresses, and the local names."""
    bound = [] if is_wildcard(host) else [host.strip().strip("[]").lower()]
    return list(dict.fromkeys(bound + machine_names() + machine_addresses() + list(LOCAL_NAMES)))
