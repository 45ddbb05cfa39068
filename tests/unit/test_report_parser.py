"""The deterministic question parser: the issue's questions and more, in both languages."""

from __future__ import annotations

import pytest

from bot.report_parser import Vocabulary, chinese_number, parse_question, read_question
from bot.segment_parser import parse_segment

VOCAB = Vocabulary(
    reps=("李娜", "陈明", "Tom Wu"),
    teams=("华东销售",),
    cities=("上海", "杭州", "New York"),
    sources=("referral", "展会"),
    products=("激光打印机 LaserJet Pro", "A4 复印纸 (5包)", "人体工学椅"),
    categories=("耗材", "办公设备"),
    segments=("老客户召回",),
)

# question -> the parts of the ReportQuery that must come out (JSON form, defaults left out)
QUESTIONS = {
    "上个月复购率": {
        "metrics": ["repurchase_rate"],
        "period": {"kind": "last_month"},
        "compare": "previous",
    },
    "repurchase rate last month": {
        "metrics": ["repurchase_rate"],
        "period": {"kind": "last_month"},
        "compare": "previous",
    },
    "本季度销售额前10的客户": {
        "metrics": ["revenue"],
        "dimensions": ["customer"],
        "period": {"kind": "this_quarter"},
        "top_n": 10,
    },
    "top 10 customers by revenue this quarter": {
        "metrics": ["revenue"],
        "dimensions": ["customer"],
        "period": {"kind": "this_quarter"},
        "top_n": 10,
    },
    "近6个月NPS趋势": {
        "metrics": ["nps"],
        "dimensions": ["month"],
        "period": {"kind": "last_months", "n": 6},
    },
    "NPS trend over the last 6 months": {
        "metrics": ["nps"],
        "dimensions": ["month"],
        "period": {"kind": "last_months", "n": 6},
    },
    "各销售本月新客户数": {"metrics": ["new_customers"], "dimensions": ["rep"]},
    "new customers per rep this month": {"metrics": ["new_customers"], "dimensions": ["rep"]},
    "哪些客户有流失风险": {
        "metrics": ["days_since_last_order", "clv_historical"],
        "dimensions": ["customer"],
        "filters": {"tiers": ["churn_risk"]},
        "period": {"kind": "today"},
        "top_n": 20,
    },
    "which customers are at churn risk?": {
        "metrics": ["days_since_last_order", "clv_historical"],
        "dimensions": ["customer"],
        "filters": {"tiers": ["churn_risk"]},
        "period": {"kind": "today"},
        "top_n": 20,
    },
    "本月销售额同比": {"metrics": ["revenue"], "compare": "year_ago"},
    "revenue by month this year vs last year": {
        "metrics": ["revenue"],
        "dimensions": ["month"],
        "period": {"kind": "this_year"},
        "compare": "year_ago",
    },
    "上海客户的客单价": {
        "metrics": ["aov"],
        "filters": {"cities": ["上海"]},
        "compare": "previous",
    },
    "李娜上周的订单数环比": {
        "metrics": ["orders"],
        "filters": {"reps": ["李娜"]},
        "period": {"kind": "last_week"},
        "compare": "previous",
    },
    "revenue by city last quarter": {
        "metrics": ["revenue"],
        "dimensions": ["city"],
        "period": {"kind": "last_quarter"},
    },
    "耗材的销售额": {
        "metrics": ["revenue"],
        "filters": {"categories": ["耗材"]},
        "compare": "previous",
    },
    "打印机哪几个月卖得好": {
        "metrics": ["orders"],
        "dimensions": ["month_of_year"],
        "filters": {"products": ["打印机"]},
        "period": {"kind": "last_months", "n": 24},
    },
    "经常一起买的产品": {
        "metrics": ["lift", "confidence", "support"],
        "dimensions": ["product_pair"],
        "period": {"kind": "last_months", "n": 12},
        "top_n": 10,
    },
    "products frequently bought together": {
        "metrics": ["lift", "confidence", "support"],
        "dimensions": ["product_pair"],
        "period": {"kind": "last_months", "n": 12},
        "top_n": 10,
    },
    "最值得跟进的线索": {
        "metrics": ["lead_score"],
        "dimensions": ["customer"],
        "period": {"kind": "today"},
        "top_n": 10,
    },
    "top 5 best leads": {
        "metrics": ["lead_score"],
        "dimensions": ["customer"],
        "period": {"kind": "today"},
        "top_n": 5,
    },
    "各等级客户数": {"metrics": ["customers"], "dimensions": ["tier"]},
    "高价值客户的复购率 近三个月": {
        "metrics": ["repurchase_rate"],
        "filters": {"tiers": ["high_value"]},
        "period": {"kind": "last_months", "n": 3},
        "compare": "previous",
    },
    "老客户召回的销售额": {
        "metrics": ["revenue"],
        "filters": {"segment": "老客户召回"},
        "compare": "previous",
    },
    "CSAT last quarter": {
        "metrics": ["csat"],
        "period": {"kind": "last_quarter"},
        "compare": "previous",
    },
    "interactions per rep last week": {
        "metrics": ["interactions"],
        "dimensions": ["rep"],
        "period": {"kind": "last_week"},
    },
    "过去30天每天的订单数": {
        "metrics": ["orders"],
        "dimensions": ["day"],
        "period": {"kind": "last_days", "n": 30},
    },
    "Tom Wu's retention rate this year": {
        "metrics": ["retention_rate"],
        "filters": {"reps": ["Tom Wu"]},
        "period": {"kind": "this_year"},
        "compare": "previous",
    },
    "客户终身价值 按城市": {"metrics": ["clv_historical"], "dimensions": ["city"]},
    "销售额最低的5个城市": {
        "metrics": ["revenue"],
        "dimensions": ["city"],
        "sort": "asc",
        "top_n": 5,
    },
}


@pytest.mark.parametrize("question", list(QUESTIONS))
def test_questions(question):
    query = parse_question(question, VOCAB)
    assert query is not None, question
    assert query.model_dump(mode="json", exclude_defaults=True) == QUESTIONS[question]


@pytest.mark.parametrize(
    "text", ["今天天气怎么样", "hello there", "帮我写一封邮件", "", "   ", "who is Tom?"]
)
def test_unanswerable_questions_get_no_guess(text):
    assert parse_question(text, VOCAB) is None


def test_latin_names_match_whole_words_only():
    # "customers" contains "tom": it must not become a filter on Tom.
    query = parse_question("top 3 customers by revenue", VOCAB)
    assert query is not None and query.filters.reps == []


def test_chinese_numbers():
    assert [chinese_number(x) for x in ("10", "十", "十二", "二十", "两", "三")] == [
        10,
        10,
        12,
        20,
        2,
        3,
    ]


@pytest.mark.parametrize(
    "text",
    ["买过≥3次 60天未购 上海", "bought>=3 no order 60 days Shanghai", "3次以上，60天没下单，上海"],
)
def test_segment_conditions_in_both_languages(text):
    vocab = Vocabulary(cities=("上海", "Shanghai"))
    definition = parse_segment(text, vocab)
    assert (definition.min_orders, definition.no_order_days) == (3, 60)
    assert len(definition.cities) == 1


@pytest.mark.parametrize("question", list(QUESTIONS))
def test_the_known_questions_name_no_customer(question):
    assert read_question(question, VOCAB).customer_ref is None


# question -> (the name read, the metric, the period kind)
NAMED = {
    "张伟今年买了多少": ("张伟", "revenue", "this_year"),
    "张伟这个客户今年买了多少?": ("张伟", "revenue", "this_year"),
    "客户张伟的订单数": ("张伟", "orders", "this_month"),
    "李娜的客户张伟今年消费了多少": ("张伟", "revenue", "this_year"),
    "华信本季度销售额": ("华信", "revenue", "this_quarter"),
    "华信科技公司今年的订单数": ("华信科技", "orders", "this_year"),
    "客户A上个月销售额": ("客户A", "revenue", "last_month"),
    "张伟近3个月的跟进次数": ("张伟", "interactions", "last_months"),
    "how much did Jane Smith buy this year": ("Jane Smith", "revenue", "this_year"),
    "Jane Smith's revenue this year": ("Jane Smith", "revenue", "this_year"),
    "revenue from Acme Corp this quarter": ("Acme Corp", "revenue", "this_quarter"),
    "how much has acme spent this year?": ("acme", "revenue", "this_year"),
    "how many orders did Jane place last month": ("Jane", "orders", "last_month"),
}


@pytest.mark.parametrize("question", list(NAMED))
def test_a_name_left_over_is_read_as_a_customer(question):
    parsed = read_question(question, VOCAB)
    name, metric, period = NAMED[question]
    assert parsed is not None and parsed.customer_ref == name
    assert [m.value for m in parsed.query.metrics] == [metric]
    assert parsed.query.period.kind.value == period


@pytest.mark.parametrize(
    "question",
    [
        "上个月复购率多少?",
        "请告诉我本季度的销售额是多少?",
        "上海客户的客单价是多少",
        "李娜的客户今年买了多少",
        "打印机哪几个月卖得好",
        "本月销售额 订单数 客单价",
        "what was revenue last month?",
        "show me the total revenue for this quarter",
        "2025年销售额",
    ],
)
def test_filler_is_not_taken_for_a_name(question):
    parsed = read_question(question, VOCAB)
    assert parsed is not None and parsed.customer_ref is None


def test_rankings_of_many_customers_read_no_name():
    assert read_question("张伟 哪些客户有流失风险", VOCAB).customer_ref is None
    assert read_question("华信 经常一起买的产品", VOCAB).customer_ref is None


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_example_we_show_is_understood(lang):
    from bot.i18n import t

    lines = t(lang, "report_examples").split("\n")[1:]
    examples = [q.strip() for line in lines for q in line.lstrip("• ").split(" · ")]
    assert len(examples) >= 9
    for question in examples:
        assert parse_question(question, VOCAB) is not None, question
