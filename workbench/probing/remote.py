"""Where a remote probe may connect: public addresses only, unless the caller allows private ones.

Without this, anyone who may start a probe could make the worker post to the database, the cloud's
metadata service or another internal endpoint, and read the error back in the probe's reason. The name
is resolved here and again by the HTTP client, so a name that changes its answer in between (DNS
rebinding) is not stopped; the check keeps out the plain cases.
"""

import ipaddress
import socket
from urllib.parse import urlsplit


def private_address_refusal(url):
    """"" when every address `url`'s host resolves to is public; else the reason to refuse it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        return f"url: {url} has an invalid port"
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as error:
        return f"cannot resolve {host!r}: {error}"
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address.is_global:
            return (f"url: {host} resolves to {address}, a private or reserved address; remote probes "
                    "reach public servers only")
    return ""
