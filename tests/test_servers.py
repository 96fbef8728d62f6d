"""Naming a test server: base URLs and LibreSpeed server-list entries."""

from __future__ import annotations

import pytest

from dokiem.agent.servers import BadServerURL, Endpoint, from_librespeed_list, librespeed_server, ookla_server
from dokiem.contract import ServerKind


def test_base_url_gets_the_backend_endpoints() -> None:
    server = librespeed_server("http://speedtest.thanhhoa.vn:8080")
    assert server.base_url == "http://speedtest.thanhhoa.vn:8080/"
    assert server.download.target == "/backend/garbage.php"
    assert server.upload.target == server.ping.target == "/backend/empty.php"
    assert server.download.host_header == "speedtest.thanhhoa.vn:8080"


def test_base_url_under_a_folder_and_protocol_relative() -> None:
    server = librespeed_server("//example.vn/speedtest/")
    assert server.download.scheme == "http" and server.download.target == "/speedtest/backend/garbage.php"


def test_https_default_port_is_not_repeated_in_host() -> None:
    server = librespeed_server("https://example.vn/")
    assert server.download.tls and server.download.port == 443 and server.download.host_header == "example.vn"


def test_ipv6_host_header_is_bracketed() -> None:
    assert Endpoint.parse("http://[2001:db8::1]:8080/x").host_header == "[2001:db8::1]:8080"


def test_a_server_list_entry_may_name_other_paths() -> None:
    entry = {
        "name": "Thanh Hóa (VNPT)",
        "server": "https://st.example.vn/",
        "dlURL": "garbage.php",
        "ulURL": "empty.php",
        "pingURL": "empty.php",
        "getIpURL": "getIP.php",
    }
    server = from_librespeed_list(entry)
    assert server.name == "Thanh Hóa (VNPT)" and server.download.target == "/garbage.php"
    assert server.ref().kind is ServerKind.LIBRESPEED


@pytest.mark.parametrize("entry", [{}, {"server": ""}, {"server": "http://x/", "dlURL": 5}])
def test_bad_server_list_entries_say_what_is_wrong(entry: dict[str, object]) -> None:
    with pytest.raises(BadServerURL):
        from_librespeed_list(entry)


@pytest.mark.parametrize("url", ["ftp://x/", "example.vn", "http://", "http://host:99999/"])
def test_bad_base_urls(url: str) -> None:
    with pytest.raises(BadServerURL):
        librespeed_server(url)


def test_ookla_endpoints_sit_beside_upload_php() -> None:
    server = ookla_server("http://ookla.example.vn:8080/speedtest/upload.php")
    assert server.kind is ServerKind.OOKLA
    assert server.download.target == "/speedtest/random4000x4000.jpg"
    assert server.ping.target == "/speedtest/latency.txt"


def test_with_query_appends() -> None:
    endpoint = Endpoint.parse("http://h/garbage.php?a=1")
    assert endpoint.with_query("ckSize=4").target == "/garbage.php?a=1&ckSize=4"
