"""Prompts and message templates live in prompts/ as files, one per language, loaded by name:
`render("draft_birthday", "en", name=…)` reads prompts/draft_birthday.en.j2 (or .md)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from jinja2 import Environment, StrictUndefined, TemplateNotFound

from bot.i18n import normalize_language

SUFFIXES = (".md", ".j2")


def _load(name: str) -> str:
    folder = resources.files("prompts")
    for suffix in SUFFIXES:
        entry = folder.joinpath(name + suffix)
        if entry.is_file():
            return entry.read_text("utf-8")
    raise TemplateNotFound(name)


@cache
def _environment() -> Environment:
    # Plain text out, not HTML; a missing merge field is an error, never an empty gap.
    return Environment(
        loader=None,
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


@cache
def _template(name: str, language: str):  # type: ignore[no-untyped-def]
    return _environment().from_string(_load(f"{name}.{language}"))


def render(template: str, language: str, /, **fields: object) -> str:
    """The template `name` in `language` (zh or en), merge fields filled in."""
    return _template(template, normalize_language(language)).render(**fields).strip()
