"""`crmbot import` and `crmbot export` on a SQLite store: reports in the staff member's
language, --json with every rejected row, --dry-run, and a mapping file."""

from __future__ import annotations

import json

import pytest
from importfiles import csv_bytes
from typer.testing import CliRunner

from crm_core.settings import Settings, override_settings
from integrations.cli import app

ROWS = [
    ["Name", "Mobile", "Company", "Sector"],
    ["Jane Smith", "+1 415 555 0132", "Acme Corp", "retail"],
    ["Bad Phone", "12", "", ""],
]


@pytest.fixture
def runner(tmp_path) -> CliRunner:
    override_settings(
        Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    )
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "--customers", "0"]).exit_code == 0
    return runner


def test_import_json_dry_run_then_real(runner, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(csv_bytes(ROWS))
    dry = runner.invoke(app, ["import", str(path), "--dry-run", "--json", "--as", "Tom Wu"])
    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.stdout)
    assert report["dry_run"] is True and report["created"] == 1
    assert report["rejected"] == [
        {
            "line": 3,
            "sheet": None,
            "reason": "bad_phone",
            "params": {"value": "12"},
            "message": "“12” is not a phone number",
        }
    ]
    real = runner.invoke(app, ["import", str(path), "--as", "李娜"])
    assert real.exit_code == 0, real.output
    assert "已导入 contacts.csv" in real.stdout and "第 3 行:“12”不是有效的电话号码" in real.stdout
    assert "以下列保存为自定义字段:Sector" in real.stdout
    again = runner.invoke(app, ["import", str(path), "--json", "--as", "李娜"])
    assert json.loads(again.stdout)["unchanged"] == 1


def test_mapping_file_and_export(runner, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(csv_bytes(ROWS[:2]))
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[columns]\nSector = "tags"\n', encoding="utf-8")
    result = runner.invoke(app, ["import", str(path), "--mapping", str(mapping), "--as", "Admin"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out.csv"
    exported = runner.invoke(app, ["export", str(out), "--as", "Admin"])
    assert "Customers: 1 row(s) exported" in exported.stdout
    text = out.read_text(encoding="utf-8-sig")
    assert "Jane Smith,Acme Corp" in text and ",retail," in text


def test_unreadable_file_is_worded(runner, tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    result = runner.invoke(app, ["import", str(path), "--as", "王经理"])
    assert result.exit_code == 1 and "旧版 Excel" in result.stdout
