"""Peak RSS of `crmbot run` idling on the console with a 100k-customer store.

At start the scheduler catches up the day's work (care scan, tier recomputation, ANALYZE)
unless another run claimed it today, so measure both a short and a long idle.

Run: .venv/bin/python benchmarks/memory.py [--customers 100000] [--idle 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._data import demo_store  # noqa: E402


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--idle", type=float, default=5.0)
    args = parser.parse_args()

    async def prepare() -> str:
        engine, url = await demo_store(args.customers)
        await engine.dispose()
        return url

    url = asyncio.run(prepare())
    crmbot = Path(sys.executable).with_name("crmbot")
    env = {**os.environ, "CRM_DATABASE_URL": url}
    env.pop("CRM_TELEGRAM_TOKEN", None)
    env.pop("CRM_SLACK_BOT_TOKEN", None)
    # stdin stays open and silent: the console front door idles, as it would for a person.
    proc = subprocess.Popen(
        [str(crmbot), "run"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    # VmHWM counts the SQLite file's mmap'd pages (shared page cache the kernel can drop)
    # with the process's own memory, so the anonymous part is sampled on its own.
    peak_anon = peak_file = 0
    try:
        deadline = time.monotonic() + args.idle
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"crmbot run exited early with {proc.returncode}")
            peak_anon = max(peak_anon, status_kb(proc.pid, "RssAnon"))
            peak_file = max(peak_file, status_kb(proc.pid, "RssFile"))
            time.sleep(0.1)
        peak, now = status_kb(proc.pid, "VmHWM"), status_kb(proc.pid, "VmRSS")
        anon, mapped = status_kb(proc.pid, "RssAnon"), status_kb(proc.pid, "RssFile")
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    print(
        f"crmbot run idle with {args.customers:,} customers (SQLite), {args.idle:.0f} s:\n"
        f"  peak RSS {peak / 1024:.1f} MiB = anonymous (process memory) peak "
        f"{peak_anon / 1024:.1f} MiB + file-backed (SQLite mmap, page cache) up to "
        f"{peak_file / 1024:.1f} MiB\n"
        f"  at the end: RSS {now / 1024:.1f} MiB (anonymous {anon / 1024:.1f} MiB, "
        f"file-backed {mapped / 1024:.1f} MiB)"
    )


if __name__ == "__main__":
    main()
