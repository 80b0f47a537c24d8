"""Memory of one large upload: 20 files of 24 MB in one ``POST /documents`` against a fresh `qa-service serve`.

Reports the server's resident set before the upload and its peak (``VmHWM``) when the 202 comes back, read
from /proc. Uploads are streamed to the spool file a chunk at a time, so the growth should not depend on
the upload size.

    python -m benchmarks.upload_rss [--files 20] [--megabytes 24]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure(files: int, megabytes: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="issue16-rss-") as tmp:
        root = Path(tmp)
        paths = []
        line = b"The pumping station log records a routine inspection of the valves and the filters.\n"
        for i in range(files):
            path = root / f"big-{i:02d}.txt"
            with path.open("wb") as out:
                out.write(f"File {i}.\n".encode())
                out.write(line * (megabytes * 1_000_000 // len(line)))
            paths.append(path)
        port = _free_port()
        env = {**os.environ, "QA_DATA_DIR": str(root / "data"), "QA_LLM__BACKEND": "none"}
        command = [sys.executable, "-m", "qa_service.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        log = (root / "serve.log").open("wb")
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            while True:
                try:
                    if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            time.sleep(1.0)
            before = _status(server.pid)
            started = time.perf_counter()
            with ExitStack() as stack:
                upload = [("files", (p.name, stack.enter_context(p.open("rb")), "text/plain")) for p in paths]
                response = httpx.post(url + "/documents", files=upload, timeout=600)
            seconds = time.perf_counter() - started
            after = _status(server.pid)
            assert response.status_code == 202, response.text[:300]
        finally:
            server.terminate()
            server.wait(30)
    return {
        "files": files,
        "megabytes_each": megabytes,
        "upload_s": round(seconds, 2),
        "rss_before_mb": round(before["VmRSS"] / 1024, 1),
        "peak_rss_mb": round(after["VmHWM"] / 1024, 1),
        "peak_growth_mb": round((after["VmHWM"] - before["VmHWM"]) / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--megabytes", type=int, default=24)
    args = parser.parse_args()
    print(json.dumps(measure(args.files, args.megabytes)))


if __name__ == "__main__":
    main()
