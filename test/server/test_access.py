"""The access rules without a socket: where the token may come from, the cookie's
flags, refusals logged once per address, the token a person may configure, and the
QR code of the URL (decoded back by OpenCV's reader)."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest

from vuer_ros.config import ConfigError, default_params
from vuer_ros.server.access import AccessGuard, RefusalLog, check_token, new_token
from vuer_ros.server.qr import qr_text
from vuer_ros.view.options import ViewOptions

TOKEN = "robot-lab-token"
PORT = 8443
COOKIE = f"vuer_ros_token_{PORT}"


def test_no_token_allows_everything():
    guard = AccessGuard(None, secure=False)
    assert not guard.required
    assert guard.check("/files/x.stl", {}, PORT).allowed
    assert guard.check("/", {}, PORT, websocket=True).allowed


@pytest.mark.parametrize("path, headers, websocket, allowed, reason", [
    (f"/?token={TOKEN}", {}, False, True, ""),
    (f"/files/m/a.stl?x=1&token={TOKEN}", {}, False, True, ""),
    ("/", {}, False, False, "no token"),
    ("/?token=robot-lab-tokeN", {}, False, False, "wrong token"),
    ("/?token=", {}, False, False, "no token"),
    ("/", {"Cookie": f"other=1; {COOKIE}={TOKEN}"}, False, True, ""),
    ("/", {"Cookie": f"vuer_ros_token_9999={TOKEN}"}, False, False, "no token"),   # another port's
    ("/", {"Cookie": f"{COOKIE}=stale-token"}, False, False, "wrong token (an old cookie?)"),
    ("/", {"Authorization": f"Bearer {TOKEN}"}, False, True, ""),
    ("/", {"Authorization": "Bearer nope-nope"}, False, False, "wrong token"),
    (f"/?token={TOKEN}", {}, True, True, ""),
    ("/", {"Cookie": f"{COOKIE}={TOKEN}", "Origin": f"https://robot:{PORT}", "Host": f"robot:{PORT}"},
     True, True, ""),
    ("/", {"Cookie": f"{COOKIE}={TOKEN}", "Origin": "https://evil.example", "Host": f"robot:{PORT}"},
     True, False, "token cookie sent by another site's page"),
])
def test_where_the_token_may_come_from(path, headers, websocket, allowed, reason):
    verdict = AccessGuard(TOKEN, secure=True).check(path, headers, PORT, websocket=websocket)
    assert (verdict.allowed, verdict.reason) == (allowed, reason)
    # the cookie is given to a page that came with the right token in its query
    assert verdict.set_cookie == (allowed and "token=" in path and not websocket)


def test_cookie_flags_and_refusal():
    assert AccessGuard(TOKEN, secure=True).set_cookie(PORT) == (
        "Set-Cookie", f"{COOKIE}={TOKEN}; Path=/; HttpOnly; SameSite=Strict; Secure")
    assert "Secure" not in AccessGuard(TOKEN, secure=False).set_cookie(PORT)[1]
    guard = AccessGuard(TOKEN, secure=True)
    verdict = guard.check("/", {}, PORT)
    reply = guard.refused(verdict)
    assert reply.status == 401 and TOKEN.encode() not in reply.body
    assert ("Cache-Control", "no-store") in reply.headers
    reason = guard.close_reason(verdict)
    assert reason.startswith("no token: ") and len(reason.encode()) <= 123


def test_refusals_logged_once_per_address(caplog):
    log = RefusalLog(logging.getLogger("vuer_ros.test"))
    verdict = AccessGuard(TOKEN, secure=True).check("/?token=guess-1234", {}, PORT)
    with caplog.at_level(logging.WARNING):
        assert log.note("10.0.0.7", "GET /", verdict)
        assert not log.note("10.0.0.7", "a websocket", verdict)
        assert log.note("10.0.0.8", "GET /", verdict)
    assert log.refused == 3
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and "10.0.0.7: wrong token" in lines[0]
    assert "guess-1234" not in caplog.text


def test_tokens():
    assert check_token(TOKEN) == TOKEN
    for bad in ("short", "has space in it", "semi;colon-token", "x" * 129, "ünïcödé-token"):
        with pytest.raises(ValueError, match="token: .*use 8 to 128 of"):
            check_token(bad)
    a, b = new_token(), new_token()
    assert a != b and check_token(a) == a and len(a) >= 22


def test_node_parameters_are_checked_by_name(tmp_path):
    cert = tmp_path / "cert.pem"
    cert.write_text("")
    cases = {"token": ({"token": "bad token"}, "token: "),
             "cert only": ({"tls.cert": str(cert)}, "tls.cert is set but tls.key is empty"),
             "key only": ({"tls.key": str(cert)}, "tls.key is set but tls.cert is empty"),
             "missing": ({"tls.cert": str(cert), "tls.key": str(tmp_path / "nope.pem")},
                         "tls.key: .*nope.pem' does not exist")}
    for override, message in cases.values():
        with pytest.raises(ConfigError, match=message):
            ViewOptions.from_params({**default_params(), **override})
    options = ViewOptions.from_params({**default_params(), "token": TOKEN, "host": " 0.0.0.0 "})
    assert (options.token, options.host, options.tls_cert) == (TOKEN, "0.0.0.0", "")


def qr_image(text: str, scale: int = 6) -> np.ndarray:
    """The text QR code as a terminal with a dark background shows it: a drawn half of a
    character is light, a blank one dark."""
    halves = {"\u2588": (1, 1), "\u2580": (1, 0), "\u2584": (0, 1), " ": (0, 0)}
    rows: list[list[int]] = []
    for line in text.splitlines():
        top, bottom = zip(*(halves[c] for c in line))
        rows += [list(top), list(bottom)]
    modules = np.array(rows, dtype=np.uint8) * 255
    return np.kron(modules, np.ones((scale, scale), dtype=np.uint8))


def test_qr_code_reads_back_as_the_url():
    url = "https://192.168.10.42:8012/?token=Zk3_-q9XbC0aL1mN2oP4rS"
    image = qr_image(qr_text(url))
    image = cv2.copyMakeBorder(image, 24, 24, 24, 24, cv2.BORDER_CONSTANT, value=255)
    decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert decoded == url
