"""Import speed: a generated customer file (CSV, GBK like Excel in China) into a fresh
SQLite store — first import, the same file again (nothing changes), and a dry run.

    CRM_BENCH_DIR=/tmp/crm-bench-me .venv/bin/python benchmarks/import_bench.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import random
import time
from pathlib import Path

from crm_core.access import Actor
from crm_core.db import make_engine, make_session_factory
from crm_core.io.importer import import_file
from crm_core.migrate import upgrade
from crm_core.models import Role
from crm_core.staff import add_staff

FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建国文红梅玲飞鑫波宇浩凯婷雪"
FIRMS = "华信 恒达 新锐 金桥 东方 瑞丰 博远 天成 远航 锦程 中科 万通 嘉禾 美佳 绿源".split()
TRADES = "科技 贸易 传媒 物流 建材 食品 教育 医疗 电子 装饰".split()
CITIES = "上海 杭州 南京 苏州 北京 深圳 广州 成都".split()
HEADERS = ["客户名称", "手机号", "邮箱", "公司", "城市", "生日", "标签", "备注", "地址"]


def generate(rows: int, seed: int = 11) -> bytes:
    """`rows` customers; about 2% repeat an earlier phone (merged), 0.5% have a bad one."""
    rng = random.Random(seed)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    phones: list[str] = []
    for n in range(rows):
        name = rng.choice(FAMILY) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        roll = rng.random()
        if roll < 0.02 and phones:
            phone = rng.choice(phones)
        elif roll < 0.025:
            phone = "12-34"
        else:
            phone = f"1{rng.choice((3, 5, 8))}{n:09d}"
            phones.append(phone)
        company = rng.choice(FIRMS) + rng.choice(TRADES)
        birthday = f"{rng.randint(1960, 2000)}/{rng.randint(1, 12)}/{rng.randint(1, 28)}"
        writer.writerow(
            [
                name,
                phone,
                f"c{n}@example.com" if rng.random() < 0.5 else "",
                company,
                rng.choice(CITIES),
                birthday if rng.random() < 0.3 else "",
                "VIP" if rng.random() < 0.1 else "",
                "",
                f"{rng.choice(CITIES)}市某路{rng.randint(1, 999)}号",
            ]
        )
    return out.getvalue().encode("gbk")


async def main(rows: int) -> None:
    folder = Path(os.environ.get("CRM_BENCH_DIR", "/tmp/crm-bench"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"import-{rows}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    sessions = make_session_factory(engine)
    async with sessions() as session, session.begin():
        manager = await add_staff(session, name="王经理", role=Role.MANAGER, team="华东")
    actor = Actor.from_staff(manager, channel="cli")
    started = time.perf_counter()
    data = generate(rows)
    took = time.perf_counter() - started
    print(f"generated {rows} rows ({len(data) / 1e6:.1f} MB, GBK) in {took:.1f} s")
    for label, dry_run in (("dry run", True), ("import", False), ("re-import", False)):
        started, cpu = time.perf_counter(), time.process_time()
        report = await import_file(sessions, actor, data, "bench.csv", dry_run=dry_run)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"{label:>9}: {elapsed:5.1f} s wall, {cpu:5.1f} s CPU ({rows / elapsed:,.0f} rows/s); "
            f"created {report.created}, merged {report.merged}, unchanged {report.unchanged}, "
            f"rejected {len(report.rejected)}, possible duplicates "
            f"{len(report.possible_duplicates)}"
        )
    await engine.dispose()
    # Other processes share this machine's CPUs: wall time depends on them.
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().rows))
