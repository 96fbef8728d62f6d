"""A hotspot's sign-in page, as public Wi-Fi puts it in front of every address: each request answered by a
redirect to the portal (``--mode portal``), or an open line's ``generate_204`` (``--mode open``).

    python -m testkit.portal --listen 198.18.2.2:8081 --mode portal
"""

from __future__ import annotations

import argparse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTAL_PAGE = "/login"  # on the same host: every other address is sent here


def handler(mode: str) -> type[BaseHTTPRequestHandler]:
    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if mode == "open" and self.path.startswith("/generate_204"):
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = b"<html><body>Sign in to use the Wi-Fi</body></html>"
            if self.path == PORTAL_PAGE:
                self.send_response(200)
            else:
                self.send_response(302)
                self.send_header("Location", f"http://{self.headers.get('Host', 'portal')}{PORTAL_PAGE}")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listen", required=True, help="HOST:PORT")
    parser.add_argument("--mode", choices=("portal", "open"), default="portal")
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)
    ThreadingHTTPServer((host, int(port)), handler(args.mode)).serve_forever()


if __name__ == "__main__":
    main()
