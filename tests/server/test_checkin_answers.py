"""A check-in says what was answered: an empty one is refused, an unanswered question is shown
to care staff as unanswered (未填写), never as 否 or a blank."""

from __future__ import annotations

import re

import pytest

from tests.support.world import START, World


@pytest.fixture
def township(database_url: str):
    with World.start(database_url, env="production", secret="s" * 32) as world:
        world.account("chenjing", "care")
        yield world


def test_a_check_in_with_nothing_answered_is_refused_naming_a_field_and_why(world: World) -> None:
    phone = world.phone()
    phone.replica.put("empty", "checkin", {"site": phone.site, "at": START, "type": "checkin", "talk": False,
                                           "note": "  "}, START)

    [result] = world.phone().transport(phone.replica.request(START)).results

    assert result.status == "rejected"
    assert [(e.field, e.code) for e in result.errors] == [("fatigue", "no_answer")]
    assert "at least one question" in result.errors[0].reason


@pytest.mark.parametrize(
    "answer",
    [{"talk": True}, {"note": "累"}, {"ate": False}, {"fatigue": 1}, {"type": "injury", "injury_kind": "exposure"}],
    ids=["talk", "note", "ate-no", "fatigue", "injury"],
)
def test_one_answer_is_enough(world: World, answer: dict) -> None:
    phone = world.phone()
    phone.replica.put("one", "checkin", {"site": phone.site, "at": START, **answer}, START)

    [result] = phone.transport(phone.replica.request(START)).results

    assert result.status == "applied"


def test_care_staff_see_unanswered_questions_as_unanswered(township: World) -> None:
    phone = township.phone()
    phone.replica.put("c1", "checkin", {"site": phone.site, "at": START, "fatigue": 4, "rested": False}, START)
    phone.sync(START)
    township.sign_in("chenjing")

    page = township.client.get("/township/wellbeing").text

    details = re.search(r'<section class="checkin" data-entry-id="c1">(.*?)</section>', page, re.S)
    assert details is not None
    line = " ".join(re.sub(r"<[^>]+>", "", details[1]).split())
    assert "疲劳程度 4/5 · 睡眠 未填写 · 心情 未填写 · 按时就餐 未填写 · 有休息场所 否" in line
