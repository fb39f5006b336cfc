"""Enrolment codes cannot be guessed (issue 9.4): long codes, attempts counted in the database
across processes, forwarded addresses believed only from configured proxies, and nothing said
about a code's person until it is spent."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from server.models import AuditEvent, EnrolCode, RateCounter
from server.ratelimit import ENROL_FAILURES_TOTAL, ENROL_PER_ADDRESS
from server.services.enrolment import CODE_ALPHABET, CODE_ATTEMPTS, CODE_LENGTH, code_hash, normalise_code
from tests.support.server_process import ServerProcess
from tests.support.world import World

WRONG = "0000-0000-0000"


def _tries(url: str, n: int, forwarded: list[str] | None = None) -> list[int]:
    with httpx.Client(base_url=url) as http:
        return [
            http.post("/api/enrol", json={"code": WRONG},
                      headers={"x-forwarded-for": forwarded[i]} if forwarded else {}).status_code
            for i in range(n)
        ]


@pytest.fixture
def server_factory(tmp_path, sqlite_database):
    started: list[ServerProcess] = []

    def start(**env: str) -> ServerProcess:
        process = ServerProcess(sqlite_database, tmp_path / f"server{len(started)}.log", env=env).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def test_a_forwarded_address_from_an_untrusted_peer_is_not_believed(server_factory) -> None:
    server = server_factory()
    limit = ENROL_PER_ADDRESS.limit
    addresses = [f"203.0.113.{i}" for i in range(1, limit + 2)]

    statuses = _tries(server.url, limit + 1, addresses)

    assert statuses[:limit] == [400] * limit
    assert statuses[limit] == 429


def test_a_configured_proxy_is_believed(server_factory) -> None:
    server = server_factory(NUANXIN_TRUSTED_PROXIES="127.0.0.1")
    limit = ENROL_PER_ADDRESS.limit

    assert 429 not in _tries(server.url, limit + 1, [f"203.0.113.{i}" for i in range(1, limit + 2)])
    assert _tries(server.url, limit + 1, ["198.51.100.7"] * (limit + 1))[-1] == 429


def test_the_per_address_limit_holds_across_server_processes(server_factory) -> None:
    first, second = server_factory(), server_factory()
    half = ENROL_PER_ADDRESS.limit // 2 + 1

    statuses = _tries(first.url, half) + _tries(second.url, half)

    assert statuses[-1] == 429


def test_a_code_is_long_grouped_and_readable(world: World) -> None:
    code = world.code("lina")

    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    assert set(code.replace("-", "")) <= set(CODE_ALPHABET) and len(code.replace("-", "")) == CODE_LENGTH
    assert not set("ILOU") & set(CODE_ALPHABET)
    assert normalise_code(" 7kq2 m9xd-4htr ") == "7KQ2M9XD4HTR"
    assert normalise_code("O1LI") == "0111"


def test_a_code_typed_in_lower_case_without_dashes_enrols(world: World) -> None:
    code = world.code("lina")

    answer = world.client.post("/api/enrol", json={"code": code.replace("-", " ").lower()})

    assert answer.status_code == 201


def test_a_code_for_another_person_names_nobody_and_is_void_after_a_few_tries(world: World) -> None:
    code = world.code("lina")

    for _ in range(CODE_ATTEMPTS):
        answer = world.client.post("/api/enrol", json={"code": code, "expect_person": "zhangwei"})
        assert answer.status_code == 409
        assert answer.json()["error"] == "other_person"
        assert "李娜" not in answer.text and "lina" not in answer.text

    spent = world.client.post("/api/enrol", json={"code": code})
    assert spent.status_code == 400
    assert world.scalars(select(EnrolCode.used_at).where(EnrolCode.code_hash == code_hash(code)))[0]


def test_failures_over_the_total_limit_stop_every_address(world: World) -> None:
    async def near_the_limit(session) -> None:
        session.add(RateCounter(key=f"{ENROL_FAILURES_TOTAL.name}:all", window_start=datetime.now(UTC),
                                count=ENROL_FAILURES_TOTAL.limit))

    world.session(near_the_limit)
    code = world.code("lina")

    answer = world.client.post("/api/enrol", json={"code": code})

    assert answer.status_code == 429
    assert "Retry-After" in answer.headers


def test_codes_issued_and_spent_are_in_the_audit_log(world: World) -> None:
    world.phone("lina")

    events = world.scalars(select(AuditEvent.event).order_by(AuditEvent.id))

    assert events[-2:] == ["code.issued", "device.enrolled"]


def test_windows_long_past_are_cleared(world: World) -> None:
    from datetime import timedelta

    async def old_window(session) -> None:
        session.add(RateCounter(key=f"{ENROL_PER_ADDRESS.name}:203.0.113.9",
                                window_start=datetime.now(UTC) - timedelta(days=2), count=3))

    world.session(old_window)
    world.client.post("/api/enrol", json={"code": WRONG})

    keys = world.scalars(select(RateCounter.key))
    assert f"{ENROL_PER_ADDRESS.name}:203.0.113.9" not in keys


def test_the_sign_in_limit_per_address_holds_across_server_processes(server_factory) -> None:
    from server.ratelimit import SIGN_IN_PER_ADDRESS

    secret = {"NUANXIN_SECRET": "a-shared-secret-for-both-processes-0123456789"}
    servers = [server_factory(**secret), server_factory(**secret)]
    statuses = []
    for i in range(SIGN_IN_PER_ADDRESS.limit + 1):
        with httpx.Client(base_url=servers[i % 2].url) as http:
            token = re.search(r'name="_csrf_token" value="([^"]+)"', http.get("/township/login").text)[1]
            statuses.append(http.post("/township/login", data={"username": "nobody", "password": "wrong",
                                                               "_csrf_token": token}).status_code)

    assert statuses[:-1] == [200] * SIGN_IN_PER_ADDRESS.limit
    assert statuses[-1] == 429
