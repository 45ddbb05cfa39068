"""Both catalogues hold the same keys, and every template fills in."""

from __future__ import annotations

import re
import string

from bot.i18n import _catalogue, normalize_language, t


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    zh, en = _catalogue("zh"), _catalogue("en")
    assert set(zh) == set(en)
    fields = string.Formatter()
    for key in en:
        zh_fields = {f for _, f, _, _ in fields.parse(zh[key]) if f}
        en_fields = {f for _, f, _, _ in fields.parse(en[key]) if f}
        assert zh_fields == en_fields, key


def test_language_hints_and_fallback() -> None:
    assert normalize_language("zh-hans") == "zh"
    assert normalize_language("en-GB") == "en"
    assert normalize_language("fr", default="en") == "en"
    assert re.search("[\u4e00-\u9fff]", t("zh", "unknown_sender"))
    assert t("en", "customer_created", name="Jane", id=3) == "Customer Jane created (#3)."
