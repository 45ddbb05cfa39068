"""PII minimisation for prompts (CRM_LLM_REDACT=1): phones and e-mails leave as placeholders
([PHONE_1], [EMAIL_1]) and are put back into whatever the model answers."""

from __future__ import annotations

import re

from crm_core.normalize import looks_like_phone

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# Seven or more digits with the separators people write; looks_like_phone has the last word.
_PHONE = re.compile(r"(?<![\w\[])\+?\d[\d \-().]{5,}\d(?![\w\]])")
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_PLACEHOLDER = re.compile(r"\[(PHONE|EMAIL)_(\d+)\]")


class Redactor:
    """One mapping per conversation turn, so a value keeps its placeholder across rounds."""

    def __init__(self) -> None:
        self._by_value: dict[str, str] = {}
        self._by_placeholder: dict[str, str] = {}

    def _placeholder(self, kind: str, value: str) -> str:
        if value not in self._by_value:
            count = sum(1 for p in self._by_placeholder if p.startswith(f"[{kind}_")) + 1
            placeholder = f"[{kind}_{count}]"
            self._by_value[value] = placeholder
            self._by_placeholder[placeholder] = value
        return self._by_value[value]

    def redact(self, text: str) -> str:
        text = _EMAIL.sub(lambda m: self._placeholder("EMAIL", m[0]), text)

        def phone(match: re.Match[str]) -> str:
            value = match[0]
            if not looks_like_phone(value) or _DATE.search(value):
                return value
            return self._placeholder("PHONE", value)

        return _PHONE.sub(phone, text)

    def restore(self, text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: self._by_placeholder.get(m[0], m[0]), text)

    @property
    def redacted(self) -> int:
        return len(self._by_value)
