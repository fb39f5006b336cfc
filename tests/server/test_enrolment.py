"""Phones enrol with one-time codes; staff revoke them; a revoked phone keeps its outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from server.models import Device, EnrolCode
from server.services.enrolment import code_hash
from sync.client import SyncError, enrol
from tests.support.world import START, World, shift


def _enrol_status(world: World, code: str) -> tuple[int, dict]:
    answer = world.client.post("/api/enrol", json={"code": code})
    return answer.status_code, answer.json()


def test_a_code_enrols_the_person_it_was_issued_for(world: World) -> None:
    status, body = _enrol_status(world, world.code("lina"))

    assert status == 201
    assert body["person"]["id"] == "lina"
    assert body["site"] == {"id": "chengnan", "name": "城南社区"}
    assert len(body["token"]) >= 40


def test_a_code_works_once(world: World) -> None:
    code = world.code("lina")
    assert _enrol_status(world, code)[0] == 201

    status, body = _enrol_status(world, code)

    assert status == 400
    assert body["field"] == "code"


def test_an_expired_code_is_refused(world: World) -> None:
    code = world.code("lina")
    world.session(lambda session: session.execute(
        update(EnrolCode).where(EnrolCode.code_hash == code_hash(code))
        .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))))

    assert _enrol_status(world, code)[0] == 400


def test_a_code_with_spaces_as_read_out_still_works(world: World) -> None:
    code = world.code("lina")

    assert _enrol_status(world, f" {code[:4]} {code[4:]} ")[0] == 201


def test_a_phone_writes_as_its_own_person_whatever_it_claims(world: World) -> None:
    phone = world.phone("lina")
    phone.replica.put("e1", "shift", shift(phone.site), START)
    request = phone.replica.request(START)
    request["author"] = "zhangwei"

    answer = phone.transport.client.post(
        "/api/sync", json=request, headers={"authorization": f"Bearer {phone.transport.token}"}
    )

    assert answer.status_code == 400  # unknown envelope fields are refused, not ignored
    phone.sync(START)
    assert phone.replica.entries["e1"].author == "lina"


def test_a_revoked_phone_gets_401_keeps_its_outbox_and_syncs_after_enrolling_again(world: World) -> None:
    phone = world.phone("zhangwei")
    phone.replica.put("e1", "shift", shift(phone.site), START)
    world.session(lambda session: session.execute(
        update(Device).where(Device.id == phone.replica.device).values(revoked_at=datetime.now(UTC))))

    try:
        phone.sync(START)
    except SyncError as err:
        assert err.status == 401
    else:
        raise AssertionError("a revoked phone must get 401")
    assert [c.entry for c in phone.replica.outbox] == ["e1"]

    again = enrol("", world.code("zhangwei"), world.client)
    phone.transport.token = again["token"]
    phone.sync(START)

    assert phone.replica.outbox == []
    assert phone.replica.entries["e1"].author == "zhangwei"


def test_a_worker_moved_to_another_site_gets_the_new_sites_ledger(world: World) -> None:
    world.account("lead1", "lead")  # a colleague at the old site, dongfeng
    mover, colleague, local = world.phone("zhangwei"), world.phone("lead1"), world.phone("lina")
    movement = {"item": "N95口罩", "unit": "个", "movement": "received", "quantity": 100, "at": START}
    local.replica.put("new-site", "supply", {**movement, "site": "chengnan"}, START)
    colleague.replica.put("old-site", "supply", {**movement, "site": "dongfeng"}, START)
    mover.replica.put("own", "supply", {**movement, "site": "dongfeng"}, START)
    for phone in (local, colleague, mover):
        phone.sync(START)
    assert set(mover.replica.entries) == {"own", "old-site"}

    world.account("admin1", "admin")
    world.sign_in("admin1")
    world.client.post("/township/people/zhangwei/site", data={"site": "chengnan", "_csrf_token": world.csrf()})
    mover.sync(START)

    # His own entries stay his; the old site's ledger goes, the new site's comes.
    assert set(mover.replica.entries) == {"own", "new-site"}


def test_a_code_for_someone_else_is_refused_unspent_when_the_phone_expects_its_person(world: World) -> None:
    code = world.code("lina")

    refused = world.client.post("/api/enrol", json={"code": code, "expect_person": "zhangwei"})
    accepted = world.client.post("/api/enrol", json={"code": code, "expect_person": "lina"})

    assert refused.status_code == 409
    assert refused.json()["error"] == "other_person"
    assert accepted.status_code == 201


def test_the_phone_config_tells_the_persons_site_now(world: World) -> None:
    phone = world.phone("zhangwei")
    headers = {"authorization": f"Bearer {phone.transport.token}"}

    assert world.client.get("/api/config", headers=headers).json()["site"] == {"id": "dongfeng", "name": "东风村"}
