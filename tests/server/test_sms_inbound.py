"""Urgent reports by SMS (docs/sms.md), through a real server process on SQLite and PostgreSQL.

The SMS gateway's webhook and the phone's POST /api/sync carry the same change; whichever
arrives second is a duplicate: one entry, one change, both answers agreeing.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import func, select
from sqlalchemy import text as sql

from server import db
from server.models import ChangeLog, Entry, SmsMessage
from server.settings import Settings, SettingsError
from sync import sms
from sync.client import HttpTransport, enrol
from sync.protocol import SyncResponse
from tests.support.aio import run
from tests.support.databases import postgres_database, sqlite_url
from tests.support.server_process import ServerProcess
from tests.support.world import World, in_session

NUMBER = "+8613800138000"
GATEWAY = "gateway-token-for-tests-0123456789"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("sms")
    env = {"NUANXIN_SMS_NUMBER": NUMBER, "NUANXIN_SMS_GATEWAY_TOKEN": GATEWAY}
    if request.param == "sqlite":
        process = ServerProcess(sqlite_url(directory), directory / "server.log", env=env).start()
        yield process
        process.stop()
    else:
        with postgres_database() as url:
            process = ServerProcess(url, directory / "server.log", env=env).start()
            yield process
            process.stop()
    assert "Traceback" not in process.log(), process.log()[-3000:]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_change(kind: str, fields: dict[str, Any], device: str) -> dict[str, Any]:
    """A change creating an entry, as the phone's outbox holds it."""
    return {"id": str(uuid.uuid4()), "entry": str(uuid.uuid4()), "kind": kind, "schema": 1, "op": "put",
            "stamp": f"{now_ms():013d}-0000-{device}", "fields": fields, "base": dict.fromkeys(fields)}


def injury(site: str, device: str, kind: str = "injury", note: str = "左手被划伤，需要包扎") -> dict[str, Any]:
    fields = {"site": site, "at": now_ms(), "type": "injury", "injury_kind": kind, "note": note}
    return new_change("checkin", fields, device)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Phone:
    """An enrolled phone that knows its SMS key, as the app learns it from GET /api/config."""

    def __init__(self, server: ServerProcess) -> None:
        answer = enrol(server.url, server.issue_code("zhangwei"))
        self.server, self.device, self.token = server, answer["device"], answer["token"]
        self.site = answer["site"]["id"]
        config = httpx.get(f"{server.url}/api/config", headers=bearer(self.token)).json()
        assert config["sms"]["number"] == NUMBER
        self.key = config["sms"]["key"]

    def injury(self) -> dict[str, Any]:
        return injury(self.site, self.device)

    def by_data(self, change: dict[str, Any]) -> SyncResponse:
        with httpx.Client(base_url=self.server.url, timeout=30) as http:
            return HttpTransport(http, self.token)(
                {"protocol": 1, "device_time": now_ms(), "cursor": "0", "changes": [change]}
            )


def by_sms(server: ServerProcess, text: str, token: str = GATEWAY) -> httpx.Response:
    """The forwarder app's webhook, as it posts each text the township's number receives."""
    payload = {"from": "+8613912345678", "text": text, "sentStamp": str(now_ms()),
               "receivedStamp": str(now_ms()), "sim": "sim1"}
    return httpx.post(f"{server.url}/api/sms/inbound", json=payload, headers=bearer(token))


def stored(server: ServerProcess, change: dict[str, Any]) -> dict[str, Any]:
    """How many entries and changes the database holds for the change, and its SMS records."""

    async def read(session: Any) -> dict[str, Any]:
        def count(model: Any, column: Any) -> Any:
            return session.scalar(select(func.count()).select_from(model).where(column))

        records = select(SmsMessage.status).where(SmsMessage.change_id == change["id"])
        return {
            "entries": await count(Entry, Entry.id == change["entry"]),
            "changes": await count(ChangeLog, ChangeLog.id == change["id"]),
            "sms": list(await session.scalars(records.order_by(SmsMessage.id))),
        }

    return run(in_session(server.database_url, read))


def test_an_sms_then_the_same_change_by_data_is_one_entry_and_one_change(server: ServerProcess) -> None:
    phone = Phone(server)
    change = phone.injury()

    answer = by_sms(server, sms.encode(change, phone.key))
    data = phone.by_data(change)

    assert answer.status_code == 200
    assert answer.json()["status"] == "applied" and answer.json()["change"] == change["id"]
    assert [(r.id, r.status, r.first, r.stamp) for r in data.results] == [
        (change["id"], "duplicate", "applied", change["stamp"])
    ]
    [entry] = [e for e in data.entries if e.id == change["entry"]]
    assert entry.fields == change["fields"] and entry.device == phone.device
    assert "sms" in entry.flags
    assert stored(server, change) == {"entries": 1, "changes": 1, "sms": ["applied"]}


def test_the_change_by_data_then_by_sms_leaves_the_sms_changing_nothing(server: ServerProcess) -> None:
    phone = Phone(server)
    change = phone.injury()

    data = phone.by_data(change)
    answer = by_sms(server, sms.encode(change, phone.key))
    again = phone.by_data(change)

    assert [r.status for r in data.results] == ["applied"]
    assert answer.json()["status"] == "duplicate"
    assert [(r.status, r.first) for r in again.results] == [("duplicate", "applied")]
    [entry] = [e for e in data.entries if e.id == change["entry"]]
    assert entry.fields == change["fields"] and "sms" not in entry.flags
    assert stored(server, change) == {"entries": 1, "changes": 1, "sms": ["duplicate"]}


def test_a_replayed_sms_is_recorded_and_changes_nothing(server: ServerProcess) -> None:
    phone = Phone(server)
    change = phone.injury()
    text = sms.encode(change, phone.key)

    first, replay = by_sms(server, text), by_sms(server, text)

    assert (first.json()["status"], replay.json()["status"]) == ("applied", "duplicate")
    assert stored(server, change) == {"entries": 1, "changes": 1, "sms": ["applied", "duplicate"]}


def test_a_forged_sms_is_recorded_refused_and_the_data_copy_still_applies(server: ServerProcess) -> None:
    phone = Phone(server)
    change = phone.injury()
    forged = sms.encode(change, "a key someone guessed " + "x" * 21)

    answer = by_sms(server, forged)

    assert answer.status_code == 200 and answer.json()["status"] == "refused"
    assert stored(server, change) == {"entries": 0, "changes": 0, "sms": []}

    async def refused(session: Any) -> list[tuple[str, str | None]]:
        rows = select(SmsMessage.status, SmsMessage.device_id).where(SmsMessage.text == forged)
        return [tuple(row) for row in await session.execute(rows)]

    assert run(in_session(server.database_url, refused)) == [("refused", phone.device)]
    assert [r.status for r in phone.by_data(change).results] == ["applied"]


def test_a_message_of_another_kind_is_recorded_and_refused(server: ServerProcess) -> None:
    answer = by_sms(server, "您的验证码是 123456")
    assert answer.status_code == 200 and answer.json()["status"] == "refused"


def test_an_urgent_request_by_a_form_webhook_shows_on_the_supplies_page(server: ServerProcess) -> None:
    phone = Phone(server)
    fields = {"site": phone.site, "at": now_ms(), "item": "N95口罩", "unit": "个", "quantity": 200,
              "urgent": True}
    change = new_change("request", fields, phone.device)

    form = {"from": "+8613912345678", "text": sms.encode(change, phone.key)}
    answer = httpx.post(f"{server.url}/api/sms/inbound", data=form, headers={"X-Gateway-Token": GATEWAY})

    assert answer.json()["status"] == "applied"
    assert stored(server, change)["entries"] == 1
    page = httpx.get(f"{server.url}/township/supplies").text  # development: open without sign-in
    row = re.search(rf'<tr data-entry-id="{change["entry"]}">.*?</tr>', page, re.S)
    assert row and "紧急" in row[0] and 'data-test="sms"' in row[0]


def test_the_webhook_refuses_a_wrong_gateway_token_and_a_body_without_text(server: ServerProcess) -> None:
    assert by_sms(server, "NX1 INJURY", token="not-the-token").status_code == 401
    missing = httpx.post(f"{server.url}/api/sms/inbound", json={"from": "+86139"},
                         headers=bearer(GATEWAY))
    assert missing.status_code == 400 and missing.json()["field"] == "$.text"


@pytest.mark.parametrize("env", [{}, {"sms_number": NUMBER}, {"sms_gateway_token": GATEWAY}])
def test_the_feature_is_off_until_both_settings_are_set(tmp_path: Path, env: dict[str, str]) -> None:
    with World.start(sqlite_url(tmp_path), **env) as world:
        phone = world.phone()
        answer = world.client.post("/api/sms/inbound", json={"from": "+86139", "text": "NX1"},
                                   headers=bearer(GATEWAY))
        config = world.client.get("/api/config", headers=bearer(phone.transport.token))

    assert answer.status_code == 404
    assert config.json()["sms"] is None  # the phone offers nothing


def test_care_staff_see_an_urgent_report_from_sms_marked_as_such(database_url: str) -> None:
    with World.start(database_url, sms_number=NUMBER, sms_gateway_token=GATEWAY) as world:
        phone, other = world.phone(), world.phone()  # the other phone reports by data: not marked
        key = world.client.get("/api/config", headers=bearer(phone.transport.token)).json()["sms"]["key"]
        change = injury(phone.site, phone.replica.device, "exposure", "口罩破损")
        text = sms.encode(change, key)
        answer = world.client.post("/api/sms/inbound", json={"from": "+86139", "text": text},
                                   headers=bearer(GATEWAY))
        assert answer.json()["status"] == "applied"
        other.replica.put("d1", "checkin", {**change["fields"], "note": "另一条"}, now_ms())
        other.sync()
        world.sign_in(world.account("chenjing", "care"))

        page = world.client.get("/township/wellbeing").text

    sms_report = re.search(rf'data-entry-id="{change["entry"]}".*?</h3>', page, re.S)
    data_report = re.search(r'data-entry-id="d1".*?</h3>', page, re.S)
    assert sms_report and "紧急：职业暴露" in sms_report[0] and 'data-test="sms"' in sms_report[0]
    assert data_report and "紧急：职业暴露" in data_report[0] and 'data-test="sms"' not in data_report[0]
    assert "口罩破损" in page


STRONG = "kP3vQ9xL2mW7rT5yB8nD4fH6jS1gA0cE"


@pytest.mark.parametrize(("env", "named"), [
    ({"NUANXIN_SMS_NUMBER": "call 12345"}, "NUANXIN_SMS_NUMBER"),
    ({"NUANXIN_ENV": "production", "NUANXIN_SECRET": STRONG, "NUANXIN_SMS_GATEWAY_TOKEN": "short"},
     "NUANXIN_SMS_GATEWAY_TOKEN"),
])
def test_a_bad_sms_setting_stops_the_server_naming_it(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_both_sms_settings_from_the_environment_turn_the_feature_on() -> None:
    settings = Settings.from_env({"NUANXIN_SMS_NUMBER": NUMBER, "NUANXIN_SMS_GATEWAY_TOKEN": GATEWAY})
    assert settings.sms_enabled and settings.sms_number == NUMBER


def _upgrade_to(revision: str) -> Any:
    def upgrade(connection: Any) -> None:
        config = db.alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    return upgrade


def test_phones_enrolled_before_the_migration_get_an_sms_key_each(database_url: str) -> None:
    async def migrate_around_two_phones() -> list[tuple[str, str | None]]:
        engine = db.create_engine(database_url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(_upgrade_to("0003"))
                await conn.execute(sql("INSERT INTO sites (id, name, township) VALUES ('s1', '东风村', 't')"))
                await conn.execute(sql("INSERT INTO people (id, name, role, site_id, township) "
                                        "VALUES ('p1', '张伟', 'worker', 's1', 't')"))
                for device in ("olda", "oldb"):
                    await conn.execute(sql("INSERT INTO devices (id, person_id, token_hash, created_at) "
                                            "VALUES (:d, 'p1', :d, CURRENT_TIMESTAMP)"), {"d": device})
                await conn.run_sync(_upgrade_to("head"))
                rows = await conn.execute(sql("SELECT id, sms_key FROM devices ORDER BY id"))
                return [tuple(row) for row in rows]
        finally:
            await engine.dispose()

    rows = run(migrate_around_two_phones())
    assert [device for device, _ in rows] == ["olda", "oldb"]
    keys = [key for _, key in rows]
    assert all(key and len(key) >= 40 for key in keys) and keys[0] != keys[1]
