"""Every shell and Python block of README.md and docs/*.md runs, in order, against a real ``qa-service serve``
on loopback (``localhost:8000`` in the text becomes its address; ``.venv/bin/`` this venv). A block whose
first line is ``# needs: …`` (Docker, a remote LLM) is skipped with that reason, visibly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, SEED_FILE
from tests.servers import VENV_BIN, ServerProcess

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL, PYTHON = ("console", "bash", "sh", "shell"), ("python",)
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.M | re.S)
MY_DOCS = {
    "backup-policy.md": "---\ntitle: Backup policy\ntags: [ops, backups]\n---\n# Backups\n\n"
    "The billing database is backed up every night at 02:00 UTC.\n\n"
    "Restores are tested every month by the on-call engineer.\n",
    "onboarding.txt": "Onboarding handbook\n\nNew accounts are approved by the team lead within two working days.\n\n"
    "Laptops are handed out on the first day.\n",
}


@dataclass(frozen=True, slots=True)
class Block:
    path: Path
    line: int
    language: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def needs(self) -> str | None:
        first = self.text.lstrip().splitlines()[0] if self.text.strip() else ""
        match = re.match(r"#\s*needs:\s*(.+)", first)
        return match.group(1).strip() if match else None

    def script(self) -> str:
        """Shell: the ``$ `` lines (with their ``\\`` continuations) when the block shows a session, else all."""
        if self.language in PYTHON:
            return self.text
        lines = self.text.splitlines()
        if not any(line.startswith("$ ") for line in lines):
            return self.text
        commands, continued = [], False
        for line in lines:
            if line.startswith("$ ") or continued:
                commands.append(line.removeprefix("$ "))
                continued = line.rstrip().endswith("\\")
        return "\n".join(commands)


def runnable_blocks() -> list[Block]:
    blocks = []
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            if match.group(1) in SHELL + PYTHON:
                line = text.count("\n", 0, match.start()) + 1
                blocks.append(Block(path, line, match.group(1), match.group(2)))
    return blocks


BLOCKS = runnable_blocks()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A working directory holding ``my-docs/``, a server over its own data dir (the seed article in
    ``default``), and the environment the blocks run in (the CLI gets a data dir of its own)."""
    root = tmp_path_factory.mktemp("docs-run")
    (root / "my-docs").mkdir()
    for name, text in MY_DOCS.items():
        (root / "my-docs" / name).write_text(text, encoding="utf-8")
    server = ServerProcess(root / "server-data", root / "server.log", env={"QA_LIMITS__REQUESTS_PER_MINUTE": "0"})
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            http.post("/documents", files=[("files", (SEED_FILE.name, SEED_FILE.read_bytes()))]).raise_for_status()
            while any(d["state"] not in ("ready", "failed") for d in http.get("/documents").json()["items"]):
                time.sleep(0.2)
        env = {
            **os.environ,
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "QA_DATA_DIR": str(root / "cli-data"),
            "QA_LLM__BACKEND": "none",
            "QA_SERVER": server.url,
        }
        env.pop("QA_URL", None)
        yield root, env
    finally:
        server.stop()


def _localised(text: str, server_url: str) -> str:
    address = server_url.removeprefix("http://")
    text = re.sub(r"\b(localhost|127\.0\.0\.1):8000\b", address, text)
    return text.replace(".venv/bin/", f"{VENV_BIN}/")


def test_blocks_were_found() -> None:
    assert len(BLOCKS) >= 10 and any(b.path.name == "README.md" for b in BLOCKS)
    assert all(b.path.name != "README.md" or b.needs is None for b in BLOCKS)  # the README's all run


def test_readme_is_short() -> None:
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 150


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_block_runs(block: Block, workdir: tuple[Path, dict[str, str]]) -> None:
    if block.needs:
        pytest.skip(f"{block.id} needs {block.needs}")
    root, env = workdir
    script = _localised(block.script(), env["QA_SERVER"])
    if block.language in PYTHON:
        command = [sys.executable, "-c", script]
    else:
        command = ["bash", "-e", "-o", "pipefail", "-c", script]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"{block.id} failed ({done.returncode}):\n{script}\n--- output\n{output}"
