"""Health, readiness, metrics and request logs, each against a real server process (issue 12,
items 2 and 3)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from server import db
from server.demo import seed
from server.settings import Settings, SettingsError
from sync.client import HttpTransport, enrol
from sync.replica import Replica
from tests.support.aio import run
from tests.support.databases import _admin, postgres_database, sqlite_url
from tests.support.every_row import PASSWORD, WELLBEING_NOTE
from tests.support.server_process import ServerProcess, nuanxin
from tests.support.world import START, in_session, shift

METRICS_TOKEN = "metrics-token-4c9d2e"
HEAD = ScriptDirectory.from_config(db.alembic_config()).get_current_head()


def _execute(url: str, sql: str) -> None:
    async def work(session) -> None:  # noqa: ANN001
        await session.execute(text(sql))

    run(in_session(url, work))


def test_health_and_readiness(database_url: str, tmp_path: Path) -> None:
    server = ServerProcess(database_url, tmp_path / "server.log", demo=False).start()
    try:
        alive = httpx.get(f"{server.url}/healthz")
        assert alive.json() == {"status": "ok"} and alive.headers["cache-control"] == "no-store"
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ready", "revision": HEAD}

        _execute(database_url, "UPDATE alembic_version SET version_num = '0002'")  # an upgrade not run
        behind = httpx.get(f"{server.url}/readyz")
        assert behind.status_code == 503
        assert "run the migrations" in behind.json()["reason"]
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    finally:
        server.stop()


@pytest.mark.postgres
def test_when_the_database_goes_away_readiness_metrics_and_the_log_say_so(tmp_path: Path) -> None:
    with postgres_database() as url:
        run(in_session(url, seed, migrate=True))
        env = {"NUANXIN_METRICS_TOKEN": METRICS_TOKEN, "NUANXIN_LOG_FORMAT": "json"}
        server = ServerProcess(url, tmp_path / "server.log", demo=False, env=env).start()
        try:
            assert httpx.get(f"{server.url}/readyz").status_code == 200
            with httpx.Client(base_url=server.url, timeout=30) as client:
                answer = enrol("", server.issue_code("zhangwei"), client)
                phone = Replica(device=answer["device"])
                phone.put("s1", "shift", shift(answer["site"]["id"]), START)
                run(_admin(f'DROP DATABASE "{make_url(url).database}" WITH (FORCE)'))

                gone = client.get("/readyz")
                assert gone.status_code == 503 and "does not answer" in gone.json()["reason"]
                assert client.get("/healthz").status_code == 200
                failed = client.post("/api/sync", json=phone.request(START),
                                     headers={"authorization": f"Bearer {answer['token']}"})
                assert failed.status_code == 500 and failed.json()["error"] == "internal"
            after = _metrics(server)
        finally:
            server.stop()
    assert after["nuanxin_database_up"] == 0 and "nuanxin_conflicts_open" not in after
    assert after["nuanxin_errors_total"] == 1
    assert after['nuanxin_syncs_total{outcome="failed"}'] == 1
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    errors = [line for line in lines if line["level"] == "error"]
    assert errors and "Traceback" in errors[0]["trace"], "the operator gets the trace"
    assert answer["token"] not in server.log()
    assert any(line.get("route") == "/api/sync" and line.get("status") == 500 for line in lines)


def _metrics(server: ServerProcess) -> dict[str, float]:
    answer = httpx.get(f"{server.url}/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in answer.text.splitlines() if line and not line.startswith("#")}


def _phone(server: ServerProcess, client: httpx.Client) -> tuple[Replica, HttpTransport, str]:
    answer = enrol("", server.issue_code("zhangwei"), client)
    return Replica(device=answer["device"]), HttpTransport(client, answer["token"]), answer["site"]["id"]


def test_metrics_are_off_without_a_token_and_a_sync_moves_them(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    closed = ServerProcess(url, tmp_path / "closed.log", demo=False).start()
    try:
        assert httpx.get(f"{closed.url}/metrics").status_code == 404
    finally:
        closed.stop()

    server = ServerProcess(url, tmp_path / "server.log", env={"NUANXIN_METRICS_TOKEN": METRICS_TOKEN}).start()
    try:
        assert httpx.get(f"{server.url}/metrics").status_code == 401
        assert httpx.get(f"{server.url}/metrics", headers={"authorization": "Bearer wrong"}).status_code == 401
        start = _metrics(server)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            first, first_sends, site = _phone(server, client)
            second, second_sends, _ = _phone(server, client)
            first.put("s1", "shift", shift(site), START)
            first.put("elsewhere", "shift", shift("chengnan"), START)  # not the phone's site: rejected
            batch = first.request(START)
            first.receive(first_sends(batch), START)
            first_sends(batch)  # the same batch again, as after a lost answer: duplicates
            second.receive(second_sends(second.request(START)), START)
            first.put("s1", "shift", {"post": "东门"}, START + 1000)
            second.put("s1", "shift", {"post": "西门"}, START + 2000)
            first.receive(first_sends(first.request(START + 3000)), START + 3000)
            second.receive(second_sends(second.request(START + 3000)), START + 3000)
            assert second.entries["s1"].conflicts == ["post"]
            with pytest.raises(Exception):
                HttpTransport(client, "not-a-token")(first.request(START))  # a refused sync
        after = _metrics(server)
    finally:
        server.stop()

    def moved(key: str) -> float:
        return after.get(key, 0) - start.get(key, 0)

    assert moved('nuanxin_syncs_total{outcome="ok"}') == 5
    assert moved('nuanxin_syncs_total{outcome="refused"}') == 1
    assert moved('nuanxin_changes_total{result="applied"}') == 2
    assert moved('nuanxin_changes_total{result="rejected"}') == 1
    assert moved('nuanxin_changes_total{result="duplicate"}') == 2
    assert moved('nuanxin_changes_total{result="conflict"}') == 1
    assert after["nuanxin_conflicts_open"] == 1
    assert after["nuanxin_phones_seen_last_day"] == 2
    assert moved('nuanxin_request_duration_seconds_count{method="POST",route="/api/sync"}') == 6
    assert moved('nuanxin_request_duration_seconds_bucket{method="POST",route="/api/sync",le="+Inf"}') == 6
    assert after["nuanxin_errors_total"] == 0 and after["nuanxin_database_up"] == 1
    # The default log is a line a person reads: who, what, how it went, how long it took.
    assert re.search(r"nuanxin\.requests: request request_id=\w+ who=device:\w+ method=POST "
                     r"route=/api/sync status=200 ms=[\d.]+$", server.log(), flags=re.M)


def _csrf(client: httpx.Client) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/township/login").text)[1]


def test_json_request_logs_name_who_and_never_what_they_typed(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    run(in_session(url, seed, migrate=True))
    made = nuanxin("add-account", "wangfang", "--person", "wangfang", "--role", "staff",
                   "--database-url", url, stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    server = ServerProcess(url, tmp_path / "server.log", demo=False, env={"NUANXIN_LOG_FORMAT": "json"}).start()
    try:
        code = server.issue_code("zhangwei")
        with httpx.Client(base_url=server.url, timeout=30) as client:
            answer = enrol("", code, client)
            phone, token = Replica(device=answer["device"]), answer["token"]
            phone.put("c1", "checkin", {"site": answer["site"]["id"], "at": START, "fatigue": 5, "talk": True,
                                        "note": WELLBEING_NOTE}, START)
            phone.receive(HttpTransport(client, token)(phone.request(START)), START)
            wrong = client.post("/township/login", data={"username": "wangfang", "password": "wrong " + PASSWORD,
                                                         "_csrf_token": _csrf(client)})
            assert wrong.status_code != 303, "a wrong password does not sign in"
            signed_in = client.post("/township/login", data={"username": "wangfang", "password": PASSWORD,
                                                             "_csrf_token": _csrf(client)}, follow_redirects=False)
            assert signed_in.status_code == 303
            assert client.get("/township/").status_code == 200
            client.get(f"/api/config?token={token}")  # a secret in a query string stays out too
    finally:
        server.stop()

    log = server.log()
    for secret in (token, code, PASSWORD, WELLBEING_NOTE, WELLBEING_NOTE.encode("unicode_escape").decode()):
        assert secret not in log
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    others = [line for line in log.splitlines() if not line.startswith("{")]
    assert all(line.startswith("暖心 Nuanxin: http") for line in others), others
    requests = [line for line in lines if line["logger"] == "nuanxin.requests"]
    assert {"time", "level", "request_id", "who", "method", "route", "status", "ms"} <= set(requests[0])
    seen = {(r["who"], r["route"], r["status"]) for r in requests}
    assert seen >= {
        (f"device:{answer['device']}", "/api/sync", 200),
        ("account:wangfang", "/township", 200),
    }, seen
    assert len({r["request_id"] for r in requests}) == len(requests)


def test_a_failed_statement_does_not_carry_what_a_person_typed(database_url: str) -> None:
    """A trace in the log shows the statement, never its values (db.create_engine's hide_parameters)."""

    async def fail() -> str:
        engine = db.create_engine(database_url)
        try:
            await db.migrate(engine)
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO sites (id, name, township) VALUES (:id, :name, 't')"),
                                   {"id": "dup", "name": WELLBEING_NOTE})
                await conn.execute(text("INSERT INTO sites (id, name, township) VALUES (:id, :name, 't')"),
                                   {"id": "dup", "name": WELLBEING_NOTE})
        except Exception as err:  # noqa: BLE001 - the duplicate key, as the log would get it
            return str(err)
        finally:
            await engine.dispose()
        return "no error"

    message = run(fail())
    assert "INSERT INTO sites" in message
    assert WELLBEING_NOTE not in message


def test_a_guessable_metrics_token_stops_a_production_server_naming_it() -> None:
    strong = "k7Qz-2vLp9Xw4Rt8Yb3Nm6Hc1Jf5Dg0Sa_U"
    env = {"NUANXIN_ENV": "production", "NUANXIN_SECRET": strong, "NUANXIN_METRICS_TOKEN": "metrics"}

    with pytest.raises(SettingsError, match="NUANXIN_METRICS_TOKEN"):
        Settings.from_env(env)
    assert Settings.from_env({**env, "NUANXIN_METRICS_TOKEN": strong[::-1]}).metrics_token == strong[::-1]
