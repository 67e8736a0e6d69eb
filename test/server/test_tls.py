"""The server's TLS identity: a self-signed certificate made once under ROS home and
reused, made anew only when it no longer covers the names the server is reached at;
given files checked; fingerprint and SPKI hash as browsers and Chromium compute them."""

from __future__ import annotations

import base64
import hashlib
import os
import ssl
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from vuer_ros.server.network import certificate_names, is_loopback, reach_hosts
from vuer_ros.server.tls import TlsError, default_tls_dir, load_identity, self_signed_identity


def test_made_once_in_ros_home_and_reused(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("ROS_HOME", str(tmp_path / "ros"))
    assert default_tls_dir() == tmp_path / "ros" / "vuer_ros" / "tls"
    names = certificate_names("0.0.0.0")
    first = self_signed_identity(names)
    assert first.generated and first.cert_path.parent == default_tls_dir()
    assert stat.S_IMODE(os.stat(first.key_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(default_tls_dir()).st_mode) == 0o700
    for name in names:
        assert first.covers(name), name
    assert caplog.text.count("made a self-signed TLS certificate") == 1
    again = self_signed_identity(names)
    assert again == first   # same certificate, not made again
    assert caplog.text.count("made a") == 1


def test_the_certificate_is_what_browsers_check(tmp_path):
    made = self_signed_identity(["robot-7", "10.1.2.3", "localhost", "127.0.0.1", "::1"], tmp_path)
    cert = x509.load_pem_x509_certificate(made.cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"robot-7", "localhost"}
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} == {"10.1.2.3", "127.0.0.1", "::1"}
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in eku
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days <= 825   # Apple's limit
    der = ssl.PEM_cert_to_DER_cert(made.cert_path.read_text())
    assert made.fingerprint == ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    assert base64.b64decode(made.spki_sha256) == hashlib.sha256(spki).digest()


def test_made_anew_for_a_new_address_covering_the_old_names(tmp_path, caplog):
    old = self_signed_identity(["robot-7", "10.1.2.3"], tmp_path)
    new = self_signed_identity(["robot-7", "10.9.9.9"], tmp_path)
    assert new.fingerprint != old.fingerprint
    assert new.covers("10.9.9.9") and new.covers("10.1.2.3") and new.covers("robot-7")
    assert "does not cover 10.9.9.9" in caplog.text and new.fingerprint in caplog.text
    # a broken stored pair is replaced, saying why
    old.key_path.write_text("not a key")
    fixed = self_signed_identity(["robot-7"], tmp_path)
    assert fixed.fingerprint != new.fingerprint and "cannot be used" in caplog.text


def test_given_files_are_checked_naming_the_file(tmp_path):
    a = self_signed_identity(["localhost"], tmp_path / "a")
    b = self_signed_identity(["localhost"], tmp_path / "b")
    loaded = load_identity(a.cert_path, a.key_path)
    assert loaded.fingerprint == a.fingerprint and not loaded.generated
    with pytest.raises(TlsError, match="do not load together"):
        load_identity(a.cert_path, b.key_path)
    with pytest.raises(TlsError, match=f"certificate file {tmp_path / 'none.pem'}: cannot read"):
        load_identity(tmp_path / "none.pem", a.key_path)
    with pytest.raises(TlsError, match="no PEM certificate"):
        load_identity(a.key_path, a.key_path)
    with pytest.raises(TlsError, match="key file .*missing.pem: cannot read"):
        load_identity(a.cert_path, tmp_path / "missing.pem")


def test_an_unwritable_ros_home_says_what_to_do(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(TlsError, match="set ROS_HOME to a writable folder, or give tls.cert and tls.key"):
        self_signed_identity(["localhost"], blocker / "tls")


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.1.2.3", True), ("localhost", True), ("::1", True), ("[::1]", True),
    ("0.0.0.0", False), ("::", False), ("", False), ("192.168.1.5", False), ("robot.local", False),
])
def test_loopback_is_only_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_reach_hosts():
    assert reach_hosts("10.1.2.3") == ["10.1.2.3"]
    everywhere = reach_hosts("0.0.0.0")   # this machine's addresses and names, or loopback if none
    assert everywhere == ["127.0.0.1"] or not any(is_loopback(h) for h in everywhere)
    assert {"localhost", "127.0.0.1", "::1"} <= set(certificate_names("10.1.2.3"))
    assert certificate_names("10.1.2.3")[0] == "10.1.2.3"
