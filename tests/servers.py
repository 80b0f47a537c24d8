"""Real servers for tests: started as subprocesses on free 127.0.0.1 ports, stopped by their fixtures."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(
    command: Sequence[str], *, ready_url: str, log: Path, timeout_s: float = 120.0, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``command``, wait until ``ready_url`` answers 200, and stop the process (group) afterwards."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command),
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(ready_url, timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} not ready after {timeout_s}s:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group we started, SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@contextmanager
def chroma_server(path: Path) -> Iterator[str]:
    """``chroma run`` from the venv's chromadb on a free loopback port; yields its URL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [str(VENV_BIN / "chroma"), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)]
    url = f"http://127.0.0.1:{port}"
    with running(command, ready_url=f"{url}/api/v2/heartbeat", log=path.parent / f"chroma-{port}.log"):
        yield url


def llama_server_command(port: int, *, alias: str = "smollm2") -> list[str]:
    """``python -m llama_cpp.server`` serving the packaged SmolLM2 GGUF on 127.0.0.1:``port``."""
    from qa_service.settings import packaged_gguf_path

    return [
        sys.executable, "-m", "llama_cpp.server", "--model", packaged_gguf_path(), "--model_alias", alias,
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "2", "--verbose", "False",
    ]  # fmt: skip


class ServerProcess:
    """`qa-service serve` in a child process, its log (JSON lines) written to ``log_path``."""

    def __init__(self, data_dir: Path, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._env = {**os.environ, "QA_DATA_DIR": str(data_dir), "QA_LLM__BACKEND": "none", **(env or {})}
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> None:
        log = self.log_path.open("ab")
        command = [sys.executable, "-m", "qa_service.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self._process = subprocess.Popen(command, env=self._env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self._process.returncode}: {self.log_path.read_text()[-2000:]}"
                )
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready after {timeout}s")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut or an OOM kill."""
        assert self._process is not None
        self._process.send_signal(signal.SIGKILL)
        self._process.wait(10)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)


@contextmanager
def serving_in_thread(app: object, *, timeout_s: float = 60.0) -> Iterator[str]:
    """A real uvicorn serving ``app`` on a free loopback port in a thread of this process; yields its URL."""
    import threading

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
