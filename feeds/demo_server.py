"""The demo's own feed server: serves the feed files `seed_demo` writes under
``var/demo-feeds/`` on 127.0.0.1, so the demo's Request Data Now works offline.

Files under ``private/`` need Basic auth (user ``demo-feed``, password ``feed-demo``), so the
password prompt can be tried. Standard library only; started by ``scripts/demo.sh``::

    python -m feeds.demo_server --dir var/demo-feeds --port 8001
"""

from __future__ import annotations

import argparse
import base64
import hmac
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DEMO_FEED_USER = "demo-feed"
DEMO_FEED_PASSWORD = "feed-demo"  # noqa: S105 -- documented demo credential, demo data only
_EXPECTED = "Basic " + base64.b64encode(f"{DEMO_FEED_USER}:{DEMO_FEED_PASSWORD}".encode()).decode()


class _Handler(SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.lstrip("/").startswith("private/") and not hmac.compare_digest(
            self.headers.get("Authorization", ""), _EXPECTED
        ):
            body = b"Unauthorized"
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="demo feed"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def list_directory(self, path):  # no listings
        self.send_error(404)

    def log_message(self, *args) -> None:
        pass


class DemoFeedServer:
    """The server on 127.0.0.1:``port`` (0: any free port), in a background thread."""

    def __init__(self, directory: str | Path, port: int = 0):
        Path(directory).mkdir(parents=True, exist_ok=True)
        handler = partial(_Handler, directory=str(directory))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> DemoFeedServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default="var/demo-feeds")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    server = DemoFeedServer(args.dir, args.port)
    print(f"demo feeds on {server.base_url}/ from {args.dir}", flush=True)
    server.httpd.serve_forever()


if __name__ == "__main__":
    main()
