"""Real server processes for tests that need them (several processes, browsers, crashes)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.pg import free_port

READY_TIMEOUT_S = 30


def wait_until_ready(base_url: str, process: subprocess.Popen, log: Path) -> None:
    """Poll /healthz until it answers; fail at once if the process died."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # poll interval while the process starts; the loop ends on the first good answer
    raise TimeoutError(f"{base_url} did not become ready in {READY_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


@contextmanager
def serve(env: dict[str, str], *, log: Path, workers: int = 1) -> Iterator[str]:
    """`exhibit-crm serve` as a child process on a free port, its output in `log`; yields its base URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "exhibit_crm.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers)],
            env={**os.environ, "BASE_URL": base_url, **env}, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        wait_until_ready(base_url, process, log)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
