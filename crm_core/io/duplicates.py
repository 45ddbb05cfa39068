"""Possible duplicates: customers with no phone or e-mail in common whose name and company
are nearly the same ("张伟 · 华信科技" and "张玮 · 华信科技有限公司"). They are only flagged:
a person decides, nothing is merged on a guess.

Candidates share a blocking key — the pinyin of a Chinese name, or the folded name, or the
last word of a Latin name — so each new customer is scored against a handful, not all.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz

from crm_core.normalize import fold, has_cjk, pinyin_full, split_words

NAME_CUTOFF = 85
COMPANY_CUTOFF = 85
# Legal-form words that say nothing about which company it is.
_COMPANY_NOISE = re.compile(
    r"(有限责任公司|股份有限公司|有限公司|集团|公司|\b(?:co|corp|corporation|inc|incorporated|"
    r"ltd|limited|llc|gmbh|group|company|plc)\b\.?)",
    re.I,
)
# Candidates compared per new customer at most: a very common name must not go quadratic.
MAX_BLOCK = 200


@lru_cache(maxsize=100_000)
def name_form(name: str) -> str:
    """What two spellings of one name share: pinyin for Chinese, folded text otherwise."""
    return pinyin_full(name) if has_cjk(name) else fold(name)


@lru_cache(maxsize=100_000)
def company_form(company: str | None) -> str:
    return fold(_COMPANY_NOISE.sub(" ", company)) if company else ""


def blocking_keys(name: str) -> set[str]:
    keys = {"n:" + name_form(name)}
    if not has_cjk(name):
        words = split_words(name)
        if len(words) > 1:
            keys.add("w:" + fold(words[-1]))
    return keys


@dataclass(frozen=True)
class Person:
    """A customer as the duplicate check sees it; `ref` says where it is (id or line)."""

    ref: tuple[str, int]  # ("id", 42) for a stored customer, ("line", 7) for a row
    name: str
    company: str | None
    # The compared forms, worked out once: a person is compared with many others.
    folded: str = field(init=False, compare=False)
    sound: str = field(init=False, compare=False)
    firm: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "folded", fold(self.name))
        object.__setattr__(self, "sound", name_form(self.name))
        object.__setattr__(self, "firm", company_form(self.company))

    def blocking_keys(self) -> set[str]:
        return {"n:" + self.sound} if has_cjk(self.name) else blocking_keys(self.name)


def similarity(a: Person, b: Person) -> int | None:
    """A score 0-100 when the two look like one customer, else None."""
    if a.sound == b.sound:  # the same name, or a Chinese name that sounds the same
        name_score = 100.0
    else:
        name_score = max(
            fuzz.ratio(a.folded, b.folded, score_cutoff=NAME_CUTOFF),
            fuzz.ratio(a.sound, b.sound, score_cutoff=NAME_CUTOFF),
        )
    if name_score < NAME_CUTOFF:
        return None
    if a.firm and b.firm:
        company_score = fuzz.token_set_ratio(a.firm, b.firm)
        if company_score < COMPANY_CUTOFF:
            return None
        return round((name_score + company_score) / 2)
    # Without two companies to compare, only the very same name counts.
    return round(name_score) if name_score == 100 else None


class DuplicateIndex:
    """People seen so far, by blocking key; `best_match` scores a newcomer against them."""

    def __init__(self) -> None:
        self.blocks: dict[str, list[Person]] = defaultdict(list)

    def add(self, person: Person) -> None:
        for key in person.blocking_keys():
            self.blocks[key].append(person)

    def best_match(self, person: Person) -> tuple[Person, int] | None:
        best: tuple[Person, int] | None = None
        seen: set[tuple[str, int]] = set()
        for key in person.blocking_keys():
            for other in self.blocks.get(key, [])[-MAX_BLOCK:]:
                if other.ref in seen or other.ref == person.ref:
                    continue
                seen.add(other.ref)
                score = similarity(person, other)
                if score is not None and (best is None or score > best[1]):
                    best = (other, score)
        return best
