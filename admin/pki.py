"""TLS material for a lab or a province without its own: a CA and a server certificate signed by it.

``dokiem pki init`` writes ``ca.crt``/``ca.key`` and ``server.crt``/``server.key`` (ECDSA P-256;
keys readable by their owner only). A province with its own PKI skips this and puts its files
under the same names (docs/deploy.md). Agents get ``ca.crt`` only.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dokiem.files import write_atomically

FILES = ("ca.crt", "ca.key", "server.crt", "server.key")


CA_USAGE = x509.KeyUsage(
    digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False, key_encipherment=False,
    data_encipherment=False, key_agreement=False, encipher_only=False, decipher_only=False,
)  # fmt: skip


class PkiExists(FileExistsError):
    def __init__(self, folder: Path, files: list[str]) -> None:
        super().__init__(f"{folder} already holds {', '.join(files)}: keep them, or pass --force to replace them")
        self.folder, self.files = folder, files


@dataclass(frozen=True)
class Pki:
    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def server_cert(self) -> Path:
        return self.folder / "server.crt"

    @property
    def server_key(self) -> Path:
        return self.folder / "server.key"


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])  # fmt: skip


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())  # fmt: skip
    write_atomically(path, data, mode=0o600)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    write_atomically(path, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def init_pki(folder: Path, names: list[str], organisation: str = "dokiem", days: int = 825, force: bool = False) -> Pki:
    """A CA (10 years) and a server certificate for ``names`` (DNS names or IP addresses)."""
    names = list(dict.fromkeys(names))
    if not names:
        raise ValueError("give at least one server name (--name), e.g. mqtt.thanhhoa.gov.vn")
    pki = Pki(folder)
    present = [f for f in FILES if (folder / f).exists()]
    if present and not force:
        raise PkiExists(folder, present)
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC) - timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{organisation} CA", organisation)
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(CA_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _server_certificate(ca, ca_key, _name(names[0], organisation), _san(names), server_key, now, days)
    _write_key(pki.ca_key, ca_key)
    _write_cert(pki.ca_cert, ca)
    _write_key(pki.server_key, server_key)
    _write_cert(pki.server_cert, server)
    return pki


def _server_certificate(
    ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, subject: x509.Name, names: x509.SubjectAlternativeName,
    key: ec.EllipticCurvePrivateKey, now: datetime, days: int,
) -> x509.Certificate:  # fmt: skip
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(names, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


class PkiMissing(FileNotFoundError):
    def __init__(self, folder: Path, files: list[str]) -> None:
        super().__init__(f"{folder} lacks {', '.join(files)}")
        self.folder, self.files = folder, files


@dataclass(frozen=True)
class Renewed:
    names: list[str]
    until: datetime
    ca_until: datetime


def renew_server(folder: Path, days: int = 825) -> Renewed:
    """A new server key and certificate for the same names, signed by the same CA: agents trust it as they
    trusted the old one (they hold the CA only), so none is enrolled again (issue 32)."""
    missing = [f for f in FILES if not (folder / f).exists()]
    if missing:
        raise PkiMissing(folder, missing)
    pki = Pki(folder)
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{pki.ca_key} is not the EC key dokiem pki init writes")
    old = x509.load_pem_x509_certificate(pki.server_cert.read_bytes())
    names = old.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    key = ec.generate_private_key(ec.SECP256R1())
    server = _server_certificate(ca, ca_key, old.subject, names, key, datetime.now(UTC) - timedelta(minutes=5), days)
    _write_key(pki.server_key, key)
    _write_cert(pki.server_cert, server)
    shown = [str(n.value) for n in names]
    return Renewed(shown, server.not_valid_after_utc, ca.not_valid_after_utc)
