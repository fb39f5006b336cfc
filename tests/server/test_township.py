"""The township dashboard: shifts per site, the conflict queue, development-only access."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from server.models import Conflict
from server.settings import Settings
from tests.support.world import HOUR, START, World, conflict_on_post, shift


def test_synced_shifts_are_listed_under_their_site(world: World) -> None:
    phone = world.phone("lina")
    # Recorded and synced when the shift ended: a phone cannot end a shift in its future (K5).
    phone.replica.put("e1", "shift", shift(phone.site, end=START + 8 * HOUR, post="南门卡口"), START + 8 * HOUR)
    phone.sync(START + 8 * HOUR)

    page = world.client.get("/township/shifts")

    assert page.status_code == 200
    section = page.text.split('data-site="chengnan"', 1)[1].split("</section>", 1)[0]
    assert 'data-entry-id="e1"' in section
    assert "南门卡口" in section and "李娜" in section
    assert "8.0 小时" in section
    assert "开发模式" in page.text


def test_a_conflict_is_shown_with_both_candidates_and_resolving_it_reaches_the_phones(world: World) -> None:
    first, second = conflict_on_post(world)
    assert second.replica.entries["s2"].conflicts == ["post"]

    page = world.client.get("/township/conflicts")
    assert page.status_code == 200
    assert "东门" in page.text and "西门" in page.text
    conflict_id = re.search(r'data-conflict-id="(\d+)"', page.text)[1]
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)[1]
    # The candidates are in the order [kept value, incoming]: 0 is 东门 (first phone's, older).
    chosen = world.client.post(
        f"/township/conflicts/{conflict_id}/resolve",
        data={"choice": "0", "_csrf_token": token},
        follow_redirects=False,
    )

    assert chosen.status_code == 303
    assert "没有待核对的冲突" in world.client.get("/township/conflicts").text
    for phone in (first, second):
        phone.sync(START + 4000)
        assert phone.replica.entries["s2"].fields["post"] == "东门"
        assert phone.replica.entries["s2"].conflicts == []


def test_a_form_without_its_csrf_token_is_refused(world: World) -> None:
    conflict_on_post(world)
    page = world.client.get("/township/conflicts")
    conflict_id = re.search(r'data-conflict-id="(\d+)"', page.text)[1]

    answer = world.client.post(f"/township/conflicts/{conflict_id}/resolve", data={"choice": "0"})

    assert answer.status_code == 403
    assert "东门" in world.client.get("/township/conflicts").text


@pytest.mark.parametrize("path", ["/township/", "/township/conflicts"])
def test_production_settings_close_the_development_access(sqlite_database: str, path: str) -> None:
    with World.start(sqlite_database, env="production", secret="x" * 32) as world:
        page = world.client.get(path, follow_redirects=False)
        form = world.client.post("/township/conflicts/1/resolve", data={"choice": "0"})

    assert page.status_code == 303
    assert page.headers["location"].startswith("/township/login")
    assert form.status_code in (401, 403)
    assert "开发模式" not in page.text


def test_production_refuses_to_start_without_a_secret() -> None:
    with pytest.raises(ValueError, match="NUANXIN_SECRET"):
        Settings.from_env({"NUANXIN_ENV": "production"})


def test_the_shifts_export_opens_in_excel_with_the_chinese_intact(world: World) -> None:
    phone = world.phone("lina")
    # Recorded and synced when the shift ended: a phone cannot end a shift in its future (K5).
    phone.replica.put("e1", "shift", shift(phone.site, end=START + 8 * HOUR, post="南门卡口"), START + 8 * HOUR)
    phone.sync(START + 8 * HOUR)

    answer = world.client.get("/township/export/shifts.csv")

    assert answer.status_code == 200
    assert answer.content.startswith("\ufeff".encode())  # Excel reads UTF-8 only with a BOM
    lines = answer.content.decode("utf-8-sig").split("\r\n")
    assert lines[0].startswith("站点 Site,姓名 Name")
    assert lines[1].split(",")[:4] == ["城南社区", "李娜", "南门卡口", "白班"]


def test_conflict_candidates_name_their_author_device_and_stamp(world: World) -> None:
    first, second = conflict_on_post(world)

    candidates = world.scalars(select(Conflict.candidates))[0]

    assert [(c["value"], c["author"], c["device"]) for c in candidates] == [
        ("东门", "zhangwei", first.replica.device),
        ("西门", "zhangwei", second.replica.device),
    ]
    assert all(c["stamp"].endswith(c["device"]) for c in candidates)


def test_two_stocktakes_that_did_not_know_each_other_conflict(world: World) -> None:
    one, two = world.phone("zhangwei"), world.phone("zhangwei")
    count = {"site": one.site, "item": "N95口罩", "unit": "个", "movement": "stocktake", "at": START}
    one.replica.put("t1", "supply", {**count, "quantity": 40}, START)
    two.replica.put("t2", "supply", {**count, "quantity": 35}, START + 1)
    one.sync(START)

    answer = two.transport(two.replica.request(START + 2))

    assert answer.results[0].status == "conflict"
    assert "城南" not in world.client.get("/township/conflicts").text
    assert [(c["value"]) for c in world.scalars(select(Conflict.candidates))[0]] == [40, 35]
