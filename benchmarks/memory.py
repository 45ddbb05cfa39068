"""Peak RSS of `crmbot run` idling on the console with a 100k-customer store.

At start the scheduler catches up the day's work (care scan, tier recomputation, ANALYZE)
unless another run claimed it today, so measure both a short and a long idle.

Run: .venv/bin/python benchmarks/memory.py [--customers 100000] [--idle 5]
     .venv/bin/python benchmarks/memory.py --tiers   # the daily tier run alone, in-process
(the day's work runs once per day per store: a second run the same day only idles).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._data import demo_store  # noqa: E402


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


async def tier_run_memory(url: str) -> None:
    """Anonymous memory of this process before and at the peak of one tier recomputation."""
    from crm_core.analytics.tiers import recompute_tiers
    from crm_core.clock import utcnow
    from crm_core.db import make_engine, make_session_factory

    peak, running = [0], True

    def sample() -> None:
        while running:
            peak[0] = max(peak[0], status_kb(os.getpid(), "RssAnon"))
            time.sleep(0.05)

    engine = make_engine(url)
    before = status_kb(os.getpid(), "RssAnon")
    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        run = await recompute_tiers(make_session_factory(engine), utcnow())
    finally:
        running = False
        sampler.join()
        await engine.dispose()
    print(
        f"tier run over {run.customers:,} customers ({run.changed:,} changed) in "
        f"{run.seconds:.1f} s: anonymous memory {before / 1024:.0f} MiB before, "
        f"peak {peak[0] / 1024:.0f} MiB (+{(peak[0] - before) / 1024:.0f} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--idle", type=float, default=5.0)
    parser.add_argument("--tiers", action="store_true", help="measure the tier run alone")
    args = parser.parse_args()

    async def prepare() -> str:
        engine, url = await demo_store(args.customers)
        await engine.dispose()
        return url

    url = asyncio.run(prepare())
    if args.tiers:
        asyncio.run(tier_run_memory(url))
        return
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
