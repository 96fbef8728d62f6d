"""speedtest-cli's own engine against a Speedtest Mini-compatible server (for the lab benchmark).

speedtest-cli's config step fetches speedtest.net's configuration; the lab has no internet, so
it is replaced by speedtest.net's defaults (the values its speedtest-config.php serves), and
the "best server" is the lab's server. Prints {"download_mbps", "upload_mbps"} as JSON.
Usage: python bench/speedtest_engine.py http://198.18.0.1:8080/speedtest/upload.php
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import speedtest

# speedtest-config.php defaults: <download testlength="10" threadsperurl="4"/>,
# <upload testlength="10" ratio="5" maxchunkcount="50" threads="2"/>, <server-config threadcount="4"/>
UP_SIZES = [32768, 65536, 131072, 262144, 524288, 1048576, 7340032]
RATIO, MAX_CHUNKS = 5, 50


def default_config() -> dict[str, Any]:
    upload_sizes = UP_SIZES[RATIO - 1 :]
    upload_count = math.ceil(MAX_CHUNKS / len(upload_sizes))
    return {
        "client": {"ip": "198.18.0.2", "isp": "lab", "lat": "0", "lon": "0"},
        "ignore_servers": [],
        "sizes": {"upload": upload_sizes, "download": [350, 500, 750, 1000, 1500, 2000, 2500, 3000, 3500, 4000]},
        "counts": {"upload": upload_count, "download": 4},
        "threads": {"upload": 2, "download": 4 * 2},
        "length": {"upload": 10, "download": 10},
        "upload_max": upload_count * len(upload_sizes),
    }


def _offline_config(self: speedtest.Speedtest) -> dict[str, Any]:
    self.config.update(default_config())
    self.lat_lon = (0.0, 0.0)
    return self.config  # type: ignore[no-any-return]


def main(upload_url: str) -> None:
    speedtest.Speedtest.get_config = _offline_config
    client = speedtest.Speedtest(timeout=10)
    server = {"url": upload_url, "id": "1", "sponsor": "lab", "name": "lab", "d": 0.0, "latency": 0.0}
    client._best.update(server)
    client.results.server = server
    down = client.download()
    up = client.upload()
    print(json.dumps({"download_mbps": down / 1e6, "upload_mbps": up / 1e6}))


if __name__ == "__main__":
    main(sys.argv[1])
