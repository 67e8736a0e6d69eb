"""AccessGuard: who may read the scene, when the server has an access token.

Without a token (the default on loopback) everything is open, as before. With one,
every request needs it: the page, the client bundle's files, ``/files/...``,
``/blobs/...`` and the websocket. It may come as

- the query parameter ``token`` (the URL the server logs: ``https://host:port/?token=...``;
  the client adds it to its websocket URL);
- the cookie ``vuer_ros_token_<port>``, which the server sets on a response to a
  request that carried the right token in its query: the page's own files and the
  meshes it loads (root-relative ``/files/...``, ``/blobs/...`` URLs) carry it without
  knowing the token. ``HttpOnly`` (scripts cannot read it), ``SameSite=Strict`` (no
  other site's page sends it), ``Secure`` over TLS, no expiry (gone with the
  browser session). Cookies belong to a host, not a port: the port in the name
  keeps two servers on one machine apart;
- ``Authorization: Bearer <token>`` (scripts, curl).

A websocket that only has the cookie must come from this server's own page (its
``Origin`` names the ``Host`` it connects to). Tokens are compared in constant time.
Refusals are logged once per client address (:class:`RefusalLog`), never with the
token that was tried.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import parse_qs, urlsplit

from .static import HttpReply, refused_reply

TOKEN_QUERY = "token"
COOKIE_PREFIX = "vuer_ros_token_"
# what fits a URL query, a cookie value and a QR code without escaping
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9._~-]{8,128}")
# most addresses remembered as already logged; past this the memory starts again
MAX_LOGGED_ADDRESSES = 4096


def check_token(token: str) -> str:
    """A configured token, or ValueError saying what a token may be."""
    if not TOKEN_PATTERN.fullmatch(token):
        raise ValueError(f"token: {len(token)} characters; use 8 to 128 of A-Z a-z 0-9 . _ ~ - "
                         "(or leave it empty for a random one per start)")
    return token


def new_token() -> str:
    """A random token (128 bits, URL-safe)."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""            # why not, for the log and the websocket's close reason
    set_cookie: bool = False    # the right token came in the query: give the page its cookie


ALLOWED = Verdict(True)


class AccessGuard:
    """Checks requests against ``token`` (None: everything is allowed)."""

    def __init__(self, token: str | None, *, secure: bool) -> None:
        self.token = token
        self.secure = secure

    @property
    def required(self) -> bool:
        return self.token is not None

    def check(self, path: str, headers: Mapping[str, str], port: int, *, websocket: bool = False) -> Verdict:
        """May a request for ``path`` (with its query) and ``headers`` be answered?"""
        if self.token is None:
            return ALLOWED
        query = parse_qs(urlsplit(path).query).get(TOKEN_QUERY)
        if query:
            if self._matches(query[0]):
                return Verdict(True, set_cookie=not websocket)
            return Verdict(False, "wrong token")
        bearer = headers.get("Authorization", "")
        if bearer[:7].lower() == "bearer ":
            return ALLOWED if self._matches(bearer[7:].strip()) else Verdict(False, "wrong token")
        cookie = _cookies(headers.get("Cookie", "")).get(self.cookie_name(port))
        if cookie is None:
            return Verdict(False, "no token")
        if not self._matches(cookie):
            return Verdict(False, "wrong token (an old cookie?)")
        if websocket:
            origin = headers.get("Origin")
            if origin is not None and urlsplit(origin).netloc.lower() != headers.get("Host", "").lower():
                return Verdict(False, "token cookie sent by another site's page")
        return ALLOWED

    def _matches(self, given: str) -> bool:
        assert self.token is not None
        return hmac.compare_digest(given.encode(), self.token.encode())

    def cookie_name(self, port: int) -> str:
        return f"{COOKIE_PREFIX}{port}"

    def set_cookie(self, port: int) -> tuple[str, str]:
        """The ``Set-Cookie`` header that lets the page's files and meshes in."""
        assert self.token is not None
        flags = "; Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if self.secure else "")
        return ("Set-Cookie", f"{self.cookie_name(port)}={self.token}{flags}")

    @staticmethod
    def refused(verdict: Verdict) -> HttpReply:
        """401, saying only what to do (nothing of the scene)."""
        return refused_reply(verdict.reason)

    @staticmethod
    def close_reason(verdict: Verdict) -> str:
        """The websocket close reason (at most 123 bytes)."""
        return f"{verdict.reason}: open the URL the vuer_ros server logged (?token=...)"[:123]


def _cookies(header: str) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for part in header.split(";"):
        name, eq, value = part.strip().partition("=")
        if eq and name not in cookies:
            cookies[name] = value.strip().strip('"')
    return cookies


class RefusalLog:
    """Logs a refused request once per client address (a scanner or a stale tab
    would otherwise fill the log); counts the rest."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self._logged: set[str] = set()
        self.refused = 0

    def note(self, address: str, what: str, verdict: Verdict) -> bool:
        """Count a refusal; log it when it is the first from ``address``. True when logged."""
        self.refused += 1
        if address in self._logged:
            return False
        if len(self._logged) >= MAX_LOGGED_ADDRESSES:
            self._logged.clear()
        self._logged.add(address)
        self.logger.warning("refused %s from %s: %s; it needs the access token of the URL this server "
                            "logged (further refusals from this address are not logged)",
                            what, address or "an unknown address", verdict.reason)
        return True
