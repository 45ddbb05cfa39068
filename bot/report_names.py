"""Which words of a report question may name a customer or a company.

The parser blanks every word it placed (metric, period, split, known names); what is left is
either filler ("的", "how much did … buy") or a name ("张伟", "Jane Smith", "华信"). Filler is
dropped from the edges of each run of text; what remains, if short enough to be a name, is the
reference the caller looks up (within the asker's scope).
"""

from __future__ import annotations

import re

# Whole runs that are never a name (after punctuation is split off).
_FILLER_RUNS = set("与买了从共几卖各吗呢和在多好对总我按数是最有查每的看给花跟")
# Dropped from either end of a Chinese run, longest first.
_FILLER_EDGES = sorted(
    """
    买得最多 卖得最好 我想知道 这个客户 这位客户 这家公司 买得多 卖得多 卖得好 告诉我 多少钱
    怎么样 想知道 我们的 我想看 是多少 有多少 查一下 消费了 看一下 贡献了 购买了 一下 一共 一直
    一起 下了 下单 买了 买得 买过 什么 以来 全部 公司 几单 几次 几笔 到底 卖了 卖得 卖给 合计
    哪个 哪些 团队 多大 多少 多高 大概 如何 客户 帮忙 帮我 当前 总共 总计 总额 情况 我们 我的
    所有 报告 报表 数据 整体 最多 最好 期内 期间 查下 查询 消费 现在 目前 看下 看看 累计 给我
    统计 至今 花了 表现 贡献 购买 这个 这位 这家 那个 那边 那里 这边 那家 采购 金额 请
    """.split(),
    key=len,
    reverse=True,
)
# One-character particles: dropped only at a run's end ("张伟的") or start ("的客户").
_TRAILING = "的了吗呢啊吧呀嘛"
_LEADING = "的了和与跟给对从在是有向把"
_ENGLISH_FILLER = set(
    """
    a about account ago all amount an and are at bought bring brought buy buying buys by
    client clients company compare compared customer customers did do does during each far
    for from generate generated get give had has have how i in is it its last list made
    make many me month much my next now number of on or our over overall past per period
    place placed please previous purchase purchased purchases quarter rate report same sell
    show since so sold spend spending spent tell that the their there this time to today
    total trend until up us value versus vs was we week were what whats with year
    """.split()
)
_RUN = re.compile(r"[^\s,，。.?？!！:：;；、\"“”‘’()（）\[\]【】/|]+")
_NUMBERISH = re.compile(r"\d+(年|月|日|号|天|周|季度|%|元|块|个|位|名|家)?", re.ASCII)
_LATIN = re.compile(r"[A-Za-z0-9&'’.-]+", re.ASCII)
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
MAX_CJK_NAME = 12  # "华信科技有限公司上海分公司"
MAX_LATIN_WORDS = 5


def _strip_cjk(run: str) -> str:
    """Filler off both ends of a run, never leaving fewer than two characters ("客户A")."""
    changed = True
    while changed:
        changed = False
        for word in _FILLER_EDGES:
            for cut in (run.removeprefix(word), run.removesuffix(word)):
                if cut != run and len(cut) >= 2:
                    run, changed = cut, True
                    break
            if changed:
                break
        if len(run) > 2 and run[-1] in _TRAILING:
            run, changed = run[:-1], True
        elif len(run) > 2 and run[0] in _LEADING:
            run, changed = run[1:], True
    return run


def customer_reference(leftover: str) -> str | None:
    """The name `leftover` holds, or None when it is only filler (or too long for a name)."""
    pieces: list[str] = []
    for run in _RUN.findall(leftover):
        if _LATIN.fullmatch(run):
            word = _POSSESSIVE.sub("", run).strip(".'’-")
            if word and word.casefold() not in _ENGLISH_FILLER and not _NUMBERISH.fullmatch(word):
                pieces.append(word)
        elif run not in _FILLER_RUNS and not _NUMBERISH.fullmatch(run):
            piece = _strip_cjk(run)
            if piece not in _FILLER_EDGES and piece not in _FILLER_RUNS:
                pieces.append(piece)
    latin_words = sum(bool(_LATIN.fullmatch(p)) for p in pieces)
    if latin_words > MAX_LATIN_WORDS or any(len(p) > MAX_CJK_NAME for p in pieces):
        return None  # a phrase the parser does not know, not a name: ignored as before
    return " ".join(pieces) or None
