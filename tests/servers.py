"""Real server processes for tests that need them (several processes, browsers, crashes)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.pg import free_port

READY_TIMEOUT_S = 30


def wait_until_ready(base_url: str, process: subprocess.Popen) -> None:
    """Poll /healthz until it answers; fail at once if the process died."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {process.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # polling interval while the process starts, not a synchronisation
    raise TimeoutError(f"{base_url} did not become ready in {READY_TIMEOUT_S} s")


@contextmanager
def serve(env: dict[str, str], *, workers: int = 1) -> Iterator[str]:
    """`exhibit-crm serve` as a child process on a free port; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "exhibit_crm.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base_url, process)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stderr.close()
