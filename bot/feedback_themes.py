"""Deterministic feedback themes: the words that recur across feedback (jieba segments
Chinese), each with the sentences that contain it — quotes that are verbatim by construction."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import jieba

from crm_core.normalize import has_cjk

jieba.setLogLevel(logging.WARNING)

_SENTENCE = re.compile(r"[^。！？!?；;\n.]+[。！？!?；;.]?")
_LATIN = re.compile(r"[A-Za-z][A-Za-z'\-]{2,}")
STOP_ZH = frozenset(
    "我们 你们 他们 客户 这个 那个 一个 没有 就是 还是 但是 因为 所以 如果 非常 比较 很多 "
    "可以 觉得 希望 已经 现在 时候 什么 怎么 一下 一直 还有 而且 以及 然后 一些 这次 这些 "
    "那些 不过 不是 有点 真的 目前 总体 整体 感觉 还行 其他".split()
)
STOP_EN = frozenset(
    "the and for was were are but not with this that have has had you your our they them "
    "very too its it's just also from will would could should there their been than then "
    "about into more some any all can get got one out what when which who why how did does "
    "really much still over only again".split()
)
NEGATIVE_WORDS = (
    "慢", "差", "错", "坏", "投诉", "退货", "退款", "问题", "不满", "延迟", "卡纸", "贵", "失望",
    "late", "slow", "wrong", "broken", "bad", "refund", "return", "problem", "issue", "poor",
    "expensive", "disappoint", "cannot", "can't", "unhappy",
)  # fmt: skip
POSITIVE_WORDS = (
    "满意", "很好", "不错", "喜欢", "感谢", "及时", "专业", "推荐", "快",
    "great", "good", "love", "thank", "excellent", "fast", "happy", "helpful", "recommend",
)  # fmt: skip


@dataclass(frozen=True)
class Item:
    id: int
    text: str


@dataclass(frozen=True)
class KeywordTheme:
    term: str
    ids: list[int]
    quotes: list[str]


@cache
def _warm() -> None:
    jieba.initialize()


def terms(text: str) -> set[str]:
    found: set[str] = set()
    if has_cjk(text):
        _warm()
        for word in jieba.lcut(text):
            word = word.strip()
            if len(word) >= 2 and has_cjk(word) and word not in STOP_ZH:
                found.add(word)
    for word in _LATIN.findall(text):
        lowered = word.casefold()
        if lowered not in STOP_EN:
            found.add(lowered)
    return found


def sentence_with(text: str, term: str) -> str:
    """The sentence of `text` that contains `term` (a verbatim substring of `text`)."""
    for sentence in _SENTENCE.findall(text):
        if term.casefold() in sentence.casefold():
            return sentence.strip()
    return text.strip()


def keyword_themes(items: Sequence[Item], *, top: int = 5, quotes: int = 3) -> list[KeywordTheme]:
    per_item = {item.id: terms(item.text) for item in items if item.text}
    counts = Counter(term for found in per_item.values() for term in found)
    floor = 2 if len(per_item) >= 4 else 1
    themes: list[KeywordTheme] = []
    for term, count in counts.most_common():
        if count < floor or len(themes) >= top:
            break
        ids = [i for i, found in per_item.items() if term in found]
        if any(set(ids) == set(theme.ids) for theme in themes):
            continue  # the same items under another word
        texts = {item.id: item.text for item in items}
        samples = list(dict.fromkeys(sentence_with(texts[i], term) for i in ids))[:quotes]
        themes.append(KeywordTheme(term=term, ids=ids, quotes=samples))
    return themes


def lexicon_sentiment(text: str) -> int:
    """-1, 0 or 1 from a small word list: only for feedback without a score."""
    lowered = text.casefold()
    negative = sum(word in lowered for word in NEGATIVE_WORDS)
    positive = sum(word in lowered for word in POSITIVE_WORDS)
    return (positive > negative) - (negative > positive)
