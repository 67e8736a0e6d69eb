"""The server's TLS identity: the certificate and key a browser on the robot's network
is shown, given as files or made here once.

- Given: ``load_identity(cert, key)`` reads PEM files (a chain in ``cert`` is fine)
  and checks that they belong together.
- Made here: ``self_signed_identity(names)`` keeps one self-signed certificate (EC
  P-256, 825 days: the longest Apple accepts) under ``$ROS_HOME/vuer_ros/tls/``
  (``~/.ros/vuer_ros/tls/``), made on first use and reused after, so a headset that
  trusted it once keeps trusting it. It is made anew (and the reason logged) only when
  it does not cover a name the server is now reached at (a new address), expires
  within 30 days, or cannot be read; the new one covers the old one's names too.
  A lock file serialises nodes starting together.

Both give a :class:`TlsIdentity`: the SHA-256 fingerprint people compare with what
their browser shows, and the SPKI hash Chromium takes to trust exactly this key
(``--ignore-certificate-errors-spki-list``), not every certificate.
"""

from __future__ import annotations

import base64
import datetime
import fcntl
import hashlib
import ipaddress
import logging
import os
import secrets
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .errors import ServerError
from .network import is_ip

logger = logging.getLogger(__name__)

CERT_FILE, KEY_FILE, LOCK_FILE = "cert.pem", "key.pem", ".lock"
VALID_DAYS = 825
RENEW_BEFORE_DAYS = 30


class TlsError(ServerError):
    """A certificate or key that cannot be used (the message names the file and what to do)."""


def ros_home() -> Path:
    """ROS's per-user folder: ``$ROS_HOME``, else ``~/.ros`` (as rcl and ros2 use it)."""
    env = os.environ.get("ROS_HOME")
    return Path(env).expanduser() if env else Path.home() / ".ros"


def default_tls_dir() -> Path:
    return ros_home() / "vuer_ros" / "tls"


@dataclass(frozen=True)
class TlsIdentity:
    cert_path: Path
    key_path: Path
    fingerprint: str       # SHA-256 of the certificate (DER), "AB:CD:...", as browsers show it
    spki_sha256: str       # base64 SHA-256 of the public key (SubjectPublicKeyInfo DER)
    names: tuple[str, ...]  # the DNS names and IP addresses it covers
    not_after: datetime.datetime
    generated: bool        # made here (self-signed), not given

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate only (tests, tools on this machine)."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.cert_path))
        return context

    def covers(self, name: str) -> bool:
        return _normal(name) in self.names


def _normal(name: str) -> str:
    name = name.strip().strip("[]").lower()
    return str(ipaddress.ip_address(name)) if is_ip(name) else name


def _read_certificate(path: Path) -> x509.Certificate:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise TlsError(f"certificate file {path}: cannot read it ({e.strerror or e})") from None
    try:
        return x509.load_pem_x509_certificates(data)[0]
    except ValueError:
        raise TlsError(f"certificate file {path}: no PEM certificate in it (expected "
                       "'-----BEGIN CERTIFICATE-----')") from None


def _identity(cert_path: Path, key_path: Path, generated: bool) -> TlsIdentity:
    """The identity of a certificate file and its key; :class:`TlsError` when they do
    not load together."""
    cert = _read_certificate(cert_path)
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert_path, key_path)
    except FileNotFoundError as e:
        raise TlsError(f"key file {key_path}: cannot read it ({e.strerror})") from None
    except PermissionError as e:
        raise TlsError(f"key file {key_path}: cannot read it ({e.strerror})") from None
    except ssl.SSLError as e:
        raise TlsError(f"certificate {cert_path} and key {key_path} do not load together "
                       f"({e.reason or e}): is the key this certificate's, unencrypted PEM?") from None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(n) for n in san.get_values_for_type(x509.DNSName)] + \
                [str(n) for n in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names = []
    der = cert.public_bytes(serialization.Encoding.DER)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return TlsIdentity(
        cert_path=cert_path, key_path=key_path,
        fingerprint=":".join(f"{b:02X}" for b in hashlib.sha256(der).digest()),
        spki_sha256=base64.b64encode(hashlib.sha256(spki).digest()).decode(),
        names=tuple(dict.fromkeys(_normal(n) for n in names)),
        not_after=cert.not_valid_after_utc, generated=generated)


def load_identity(cert: str | os.PathLike[str], key: str | os.PathLike[str]) -> TlsIdentity:
    """The certificate and key given as PEM files (unencrypted key)."""
    return _identity(Path(cert).expanduser(), Path(key).expanduser(), generated=False)


def self_signed_identity(names: list[str], directory: str | os.PathLike[str] | None = None) -> TlsIdentity:
    """The self-signed certificate kept in ``directory`` (default :func:`default_tls_dir`),
    made or made anew when it does not cover ``names`` or is about to expire."""
    folder = Path(directory).expanduser() if directory is not None else default_tls_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = open(folder / LOCK_FILE, "a")
    except OSError as e:
        raise TlsError(f"cannot keep the server's certificate in {folder} ({e.strerror or e}); "
                       "set ROS_HOME to a writable folder, or give tls.cert and tls.key") from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cert_path, key_path = folder / CERT_FILE, folder / KEY_FILE
        wanted = [_normal(n) for n in names]
        old: TlsIdentity | None = None
        why = "none was made yet"
        replacing = cert_path.exists() or key_path.exists()
        if replacing:
            try:
                old = _identity(cert_path, key_path, generated=True)
            except TlsError as e:
                why = f"the stored one cannot be used ({e})"
            else:
                missing = [n for n in wanted if not old.covers(n)]
                left = old.not_after - datetime.datetime.now(datetime.timezone.utc)
                if not missing and left > datetime.timedelta(days=RENEW_BEFORE_DAYS):
                    return old
                why = (f"the stored one does not cover {', '.join(missing)}" if missing else
                       f"the stored one expires on {old.not_after:%Y-%m-%d}")
        covered = list(dict.fromkeys(wanted + (list(old.names) if old is not None else [])))
        _write_self_signed(cert_path, key_path, covered)
        made = _identity(cert_path, key_path, generated=True)
        if not replacing:
            logger.info("made a self-signed TLS certificate for %s in %s (%s); SHA-256 fingerprint %s",
                        ", ".join(made.names), cert_path, why, made.fingerprint)
        else:
            logger.warning("made a new self-signed TLS certificate for %s in %s (%s); browsers that trusted "
                           "the previous one must trust this one: SHA-256 fingerprint %s",
                           ", ".join(made.names), cert_path, why, made.fingerprint)
        return made


def _write_self_signed(cert_path: Path, key_path: Path, names: list[str]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    host = next((n for n in names if not is_ip(n) and n != "localhost"), "localhost")
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"vuer_ros on {host}"[:64]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vuer_ros (self-signed)")])
    alt: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address(n)) if is_ip(n) else x509.DNSName(n)
                                   for n in names]
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(int.from_bytes(secrets.token_bytes(16), "big") >> 1)
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    _write_atomically(key_path, key.private_bytes(serialization.Encoding.PEM,
                                                  serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()), 0o600)
    _write_atomically(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
