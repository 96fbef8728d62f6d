"""Figures the test server vouches for (issue 22, its trust chain): the collector's single-use ticket, the
test server's own count of the ticket's bytes signed with its key (a real ``dokiem testserver``), and the
collector refusing, with a reason each, a made-up summary, a changed one, another ticket's, a replayed
ticket, an expired one, a forged one."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from dokiem.collector.validate import Reason, Refusal
from dokiem.collector.vouching import TicketBook, disagrees
from dokiem.contract import utcnow
from dokiem.vouch import ServerSummary, Ticket, seal, unseal
from testkit.processes import DOKIEM, start_testserver
from testkit.residentkit import COLLECTOR_KEY, SERVER_ID, signing_options, write_keys

CK_SIZE = 2  # MiB a download request asks for
UPLOAD = 3 << 20


def _key_file(folder: Path, key: Ed25519PrivateKey) -> Path:
    path = folder / "server.key"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))  # fmt: skip
    return path


@pytest.fixture(scope="module")
def server_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def vouching_server(tmp_path_factory: pytest.TempPathFactory, server_key: Ed25519PrivateKey) -> Iterator[str]:
    proc, url = start_testserver(*signing_options(tmp_path_factory.mktemp("server"), server_key))
    yield url
    proc.terminate()
    proc.wait(10)


def _book(server_key: Ed25519PrivateKey) -> TicketBook:
    return TicketBook(key=COLLECTOR_KEY, servers={SERVER_ID: server_key.public_key()})


def _test_with(url: str, token: str) -> str:
    """A resident's test as the page runs it: a download and an upload under the ticket, then the summary."""
    query = f"ticket={token}"
    with urllib.request.urlopen(f"{url}garbage.php?ckSize={CK_SIZE}&{query}", timeout=30) as answer:
        assert len(answer.read()) == CK_SIZE << 20
    upload = urllib.request.Request(f"{url}empty.php?{query}", data=b"\0" * UPLOAD, method="POST")
    with urllib.request.urlopen(upload, timeout=30) as answer:
        answer.read()
    with urllib.request.urlopen(f"{url}summary?{query}", timeout=10) as answer:
        return str(json.load(answer)["summary"])


def _opened(book: TicketBook, token: str) -> Ticket:
    return unseal(token, Ticket, book.key.public_key())


def test_the_server_counts_the_tickets_bytes_and_the_collector_takes_its_word(
    vouching_server: str, server_key: Ed25519PrivateKey
) -> None:
    book = _book(server_key)
    token = book.issue(SERVER_ID)
    summary_token = _test_with(vouching_server, token)
    ticket, summary = book.redeem(token, summary_token)
    assert summary.ticket_id == ticket.ticket_id and summary.server_id == SERVER_ID
    assert summary.download is not None and summary.download.bytes == CK_SIZE << 20
    assert summary.upload is not None and summary.upload.bytes == UPLOAD
    assert ticket.issued_at <= summary.first_at <= summary.last_at <= ticket.expires_at
    with pytest.raises(Refusal) as replayed:
        book.redeem(token, summary_token)
    assert replayed.value.reason is Reason.TICKET_REPLAYED


def test_a_made_up_or_changed_summary_or_another_tickets_is_refused(
    vouching_server: str, server_key: Ed25519PrivateKey
) -> None:
    book = _book(server_key)
    token, other = book.issue(SERVER_ID), book.issue(SERVER_ID)
    genuine = _test_with(vouching_server, token)
    other_summary = _test_with(vouching_server, other)
    summary = unseal(genuine, ServerSummary, server_key.public_key())
    assert summary.download is not None
    inflated = summary.model_copy(update={"download": summary.download.model_copy(update={"bytes": 10**10})})
    made_up = seal(inflated, Ed25519PrivateKey.generate())  # signed, but not by the test server
    signature = genuine.split(".")[1]
    changed = f"{seal(inflated, server_key).split('.')[0]}.{signature}"  # the server's signature, other figures
    cases = ((made_up, Reason.SUMMARY_INVALID), (changed, Reason.SUMMARY_INVALID),
             (other_summary, Reason.SUMMARY_MISMATCH), ("not.a-token", Reason.SUMMARY_INVALID))  # fmt: skip
    for forged, reason in cases:
        with pytest.raises(Refusal) as refused:
            book.redeem(token, forged)
        assert refused.value.reason is reason, refused.value.detail
    assert book.redeem(token, genuine)[1] == summary  # refusals did not spend the ticket


def test_an_expired_or_forged_ticket_is_refused(vouching_server: str, server_key: Ed25519PrivateKey) -> None:
    now = [utcnow()]
    book = _book(server_key)
    book.clock = lambda: now[0]
    token = book.issue(SERVER_ID)
    summary = _test_with(vouching_server, token)
    forged = seal(_opened(book, token), Ed25519PrivateKey.generate())
    for bad, reason in ((forged, Reason.TICKET_INVALID), ("x" * 5000, Reason.TICKET_INVALID)):
        with pytest.raises(Refusal) as refused:
            book.redeem(bad, summary)
        assert refused.value.reason is reason
    now[0] += book.lifetime + timedelta(seconds=1)
    with pytest.raises(Refusal) as late:
        book.redeem(token, summary)
    assert late.value.reason is Reason.TICKET_EXPIRED


@settings(max_examples=200, deadline=None)
@given(ticket=st.text(max_size=300), summary=st.text(max_size=300))
def test_any_token_is_refused_with_a_reason_never_a_crash(ticket: str, summary: str) -> None:
    key = Ed25519PrivateKey.generate()
    book = TicketBook(key=Ed25519PrivateKey.generate(), servers={SERVER_ID: key.public_key()})
    with pytest.raises(Refusal) as refused:
        book.redeem(ticket, summary)
    assert refused.value.reason in (Reason.TICKET_INVALID, Reason.SUMMARY_INVALID)


def test_a_figure_the_page_overstates_is_told_apart() -> None:
    assert disagrees(112.0, 100.0) and disagrees(85.0, 100.0)
    assert not disagrees(109.0, 100.0) and not disagrees(None, 100.0) and not disagrees(50.0, None)


def test_a_server_without_a_key_vouches_for_nothing_and_bad_options_are_said(
    testserver_url: str, tmp_path: Path
) -> None:
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{testserver_url}summary?ticket=6a1f0e3c-8d7e-4e61-9d1e-6f0a3c2b1a00", timeout=10)
    assert missing.value.code == 404
    key = _key_file(tmp_path, Ed25519PrivateKey.generate())
    alone = subprocess.run([*DOKIEM, "testserver", "--signing-key", str(key)], capture_output=True, text=True,
                           timeout=30)  # fmt: skip
    assert alone.returncode == 2 and "--server-id" in alone.stderr and "Traceback" not in alone.stderr
    not_a_key = tmp_path / "not.key"
    not_a_key.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    collector_public = write_keys(tmp_path, COLLECTOR_KEY)[1]
    options = ["--signing-key", str(not_a_key), "--server-id", SERVER_ID, "--ticket-key", str(collector_public)]
    bad = subprocess.run([*DOKIEM, "testserver", *options], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "openssl genpkey" in bad.stderr and "Traceback" not in bad.stderr
