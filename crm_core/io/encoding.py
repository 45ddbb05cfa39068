"""Turning a CSV file's bytes into text without mangling Chinese.

Excel in China saves CSV in GBK/GB18030, elsewhere in UTF-8 (often with a BOM) or a
Windows code page. Strict UTF-8 almost never decodes a file that is not UTF-8, so it goes
first; GB18030 decodes nearly any bytes, so its result is only trusted when the characters
it produced are common simplified Chinese (GB2312) — Latin-1 accents read as GBK come out
as rare characters. Everything else goes to charset-normalizer.
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

from crm_core.io.errors import UnreadableFile

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Share of non-ASCII characters that must be common Chinese for a GB18030 reading to win.
_GB2312_SHARE = 0.8


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of `data` and the name of the encoding it was read with."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding), encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = ""
    if text and _mostly_common_chinese(text):
        return text, "gb18030"
    best = from_bytes(data).best()
    if best is None:
        raise UnreadableFile("import_unknown_encoding")
    return str(best), best.encoding


def _mostly_common_chinese(text: str) -> bool:
    wide = [ch for ch in set(text) if ord(ch) > 0x7F]
    if not wide:
        return True
    common = 0
    for ch in wide:
        try:
            ch.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common / len(wide) >= _GB2312_SHARE
