"""Property-based fuzzing of the API from its own OpenAPI schema: no answer is a 5xx.

A real server process on SQLite; the bearer token is a real enrolled phone's, so the sync
handler is fuzzed past authentication. Bounded by the hypothesis profile (tests/conftest.py).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import given

from sync.client import enrol
from tests.support.databases import sqlite_url
from tests.support.server_process import ServerProcess


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory):
    directory = tmp_path_factory.mktemp("fuzz")
    server = ServerProcess(sqlite_url(directory), directory / "server.log").start()
    yield server
    server.stop()
    assert "Traceback" not in server.log(), server.log()[-3000:]


@pytest.fixture(scope="module")
def api_schema(fuzzed_server: ServerProcess):
    schema = schemathesis.openapi.from_url(f"{fuzzed_server.url}/api/schema/openapi.json")
    token = enrol(fuzzed_server.url, fuzzed_server.issue_code("zhangwei"))["token"]
    schema.config.headers = {"authorization": f"Bearer {token}"}
    schema.config.base_url = fuzzed_server.url
    return schema


def test_no_api_answer_is_a_server_error(api_schema) -> None:
    # schemathesis's own pytest plugin does not run under pytest 9; its strategies do.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/sync", "/api/enrol"}
    statuses: list[tuple[str, int]] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        def call(case) -> None:
            response = case.call()
            statuses.append((operation.path, response.status_code))
            assert response.status_code < 500, (operation.path, response.text)

        call()
    # The token reached the sync handler: some answers got past authentication. The request
    # body is in the schema, so some generated bodies were whole sync requests that got answered.
    assert any(path == "/api/sync" and status != 401 for path, status in statuses), statuses
    assert any(path == "/api/sync" and status == 200 for path, status in statuses), statuses
