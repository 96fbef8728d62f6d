"""A commune office's router, as the agent meets it: Debian's miniupnpd (UPnP IGD) and snmpd (IF-MIB) in
the path lab's router namespace, both counting the WAN side, with a staff computer beside the agent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from testkit.pathlab import CLIENT_NET, GATEWAY_IP, REPO, SERVER_IP, PathLab

SNMP_PORT, COMMUNITY = 1161, "dokiem-lab-community"
SNMP_USER, SNMP_AUTH, SNMP_PRIV = "dokiem", "lab-auth-pass-phrase", "lab-priv-pass-phrase"
UPNP_PORT = 5000


def start_router_services(lab: PathLab, folder: Path) -> None:
    """miniupnpd and snmpd on the router's LAN side (the snmpd community readable from the LAN only)."""
    upnp = folder / "miniupnpd.conf"
    upnp.write_text(f"ext_ifname={lab.wan}\nlistening_ip={lab.lan}\nhttp_port={UPNP_PORT}\nenable_natpmp=no\n"
                    "enable_upnp=yes\nsecure_mode=no\nsystem_uptime=yes\n"
                    "uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b\n")  # fmt: skip
    lab.spawn(lab.router, "miniupnpd", "-d", "-f", str(upnp), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    snmp = folder / "snmpd.conf"
    snmp.write_text(f"agentAddress udp:{GATEWAY_IP}:{SNMP_PORT}\nrocommunity {COMMUNITY} {CLIENT_NET}.0/24\n"
                    f"createUser {SNMP_USER} SHA {SNMP_AUTH} AES {SNMP_PRIV}\nrouser {SNMP_USER} priv\n")  # fmt: skip
    (folder / "snmp-state").mkdir(exist_ok=True)  # net-snmp keeps its engine id and users here, not in /var/lib
    lab.spawn(lab.router, "env", f"SNMP_PERSISTENT_DIR={folder / 'snmp-state'}", "snmpd", "-f", "-Lo", "-C", "-c",
              str(snmp), "-p", str(folder / "snmpd.pid"), stdout=subprocess.DEVNULL,
              stderr=subprocess.DEVNULL)  # fmt: skip
    lab.wait_reachable(f"http://{GATEWAY_IP}:{UPNP_PORT}/rootDesc.xml")


TESTSERVER = f"http://{SERVER_IP}:8080/"


def serve_office(lab: PathLab, folder: Path) -> None:
    """The office as the tests and benches use it: a test server and an iperf3 server in the server namespace,
    the router's miniupnpd and snmpd, all answering before this returns."""
    lab.spawn(lab.server, sys.executable, "-m", "dokiem", "testserver", "--listen", f"{SERVER_IP}:8080",
              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)  # fmt: skip
    lab.spawn(lab.server, "iperf3", "-s", "-B", SERVER_IP, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start_router_services(lab, folder)
    lab.wait_reachable(f"{TESTSERVER}healthz")


def router_section(lab: PathLab, source: str) -> dict[str, object]:
    """agent.toml's [router] for ``source``: UPnP found on the LAN, SNMP at the gateway, or none."""
    return {
        "upnp": {"source": "upnp", "discovery_seconds": 2},
        "snmp": {"source": "snmp", "snmp_host": GATEWAY_IP, "snmp_port": SNMP_PORT, "snmp_community": COMMUNITY,
                 "snmp_interface": lab.wan},
        "snmpv3": {"source": "snmp", "snmp_host": GATEWAY_IP, "snmp_port": SNMP_PORT, "snmp_user": SNMP_USER,
                   "snmp_auth_key": SNMP_AUTH, "snmp_priv_key": SNMP_PRIV, "snmp_interface": lab.wan},
        "none": {"source": "none"},
    }[source]  # fmt: skip


# A device on the office LAN that answers every SSDP search as a gateway would, pointing at itself (or at the
# agent's own loopback), and serves a description of ``size`` bytes; it writes each path asked of it to ``log``.
HOSTILE_SSDP = r"""
import http.server, socket, struct, sys, threading
ip, port, size, log = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

class Description(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, "a") as f:
            f.write(self.path + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b"<" * 65536
        for start in range(0, size, len(chunk)):
            self.wfile.write(chunk[: size - start])

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer((ip, port), Description)
threading.Thread(target=server.serve_forever, daemon=True).start()
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("", 1900))
sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, struct.pack("4s4s", socket.inet_aton("239.255.255.250"),
                                                                         socket.inet_aton(ip)))
print("ready", flush=True)
while True:
    data, sender = sock.recvfrom(4096)
    if data.startswith(b"M-SEARCH"):
        for where in (f"http://{ip}:{port}/rootDesc.xml", f"http://127.0.0.1:{port}/rootDesc.xml"):
            sock.sendto(("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: "
                         "urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nUSN: uuid:evil::"
                         "urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nEXT:\r\nSERVER: evil/1\r\n"
                         f"LOCATION: {where}\r\n\r\n").encode(), sender)
"""
