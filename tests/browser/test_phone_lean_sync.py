"""A lean answer (docs/sync-protocol.md §4 fold, §11 P4): the phone pushes hundreds of changes in
one request, the answer carries their stamps and seqs but not the entries again, and the phone
folds them in itself; a new phone pulls them all in one page sized by bytes."""

from __future__ import annotations

import json
from typing import Callable

import msgspec
from playwright.sync_api import Page, Response

from tests.browser.phone_support import (
    capture_sync_bodies,
    enrol,
    go_offline,
    go_online_and_sync,
    local_entries,
    new_worker,
    now_ms,
    outbox,
    ready_phone,
    server_entries,
    site_of,
    wait_pending,
)
from tests.support.server_process import ServerProcess

N = 300
SAVE_SHIFTS = """async ([site, start, n]) => {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const at = start + i * 60000;
    ids.push(await window.nuanxin.save("shift", null, { site, post: `卡口${i}`, start: at, end: at + 30000, kind: "day" }));
  }
  return ids;
}"""
DEFAULTS = {"deleted": False, "conflicts": [], "flags": []}


def sync_answers(page: Page) -> list[Response]:
    """Every answer of POST /api/sync the page gets from now on."""
    answers: list[Response] = []
    page.on("response", lambda r: answers.append(r) if r.url.endswith("/api/sync") else None)
    return answers


def test_hundreds_of_changes_go_in_one_request_and_come_back_without_their_echo(
    new_phone: Callable[..., Page], server: ServerProcess
) -> None:
    person = new_worker(server)
    page = ready_phone(new_phone, server, person)
    go_offline(page)
    # Short shifts from five hours ago: nothing for the server to correct or flag.
    ids = page.evaluate(SAVE_SHIFTS, [site_of(page), now_ms() - 5 * 3_600_000, N])
    wait_pending(page, N)
    bodies, answers = capture_sync_bodies(page), sync_answers(page)

    go_online_and_sync(page)

    [pushed] = [b for b in bodies if b["changes"]]
    assert len(pushed["changes"]) == N and pushed["fold"] is True and pushed["compact"] is True
    assert "limit" not in pushed
    # Ids are stamps (§4 "Ids"): a new entry's id is its first change's, which is its stamp.
    assert [c["entry"] for c in pushed["changes"]] == ids
    assert all(c["id"] == c["stamp"] == c["entry"] for c in pushed["changes"])
    [answer] = [a.json() for a in answers if a.json()["results"]]
    assert {r["status"] for r in answer["results"]} == {"applied"} and all(r.get("seq") for r in answer["results"])
    assert not set(ids) & {e[0] for e in answer["entries"]}, "the answer echoed the phone's own changes"
    assert outbox(page) == []
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-test=shift-item]')].every((e) => e.dataset.state === 'synced')"
    )
    held = {e["id"]: {**DEFAULTS, **e} for e in local_entries(page) if e["id"] in ids}
    truth = server_entries(server, person)
    assert held == {i: msgspec.structs.asdict(truth[i]) for i in ids}, "the phone holds other than the server"

    # A new phone of the person pulls all of them in one page: pages are sized by bytes.
    second = new_phone()
    second_answers = sync_answers(second)
    enrol(second, server, person)
    # A first pull sends no changes, so its body is small and never gzipped.
    pulls = [a.json() for a in second_answers if json.loads(a.request.post_data or "{}")["cursor"] == "0"]
    assert len(pulls) == 1 and pulls[0]["more"] is False
    assert set(ids) <= {e[0] for e in pulls[0]["entries"]}  # compact entries: arrays, the id first
    stored = "async (n) => (await (await import('/js/db.js')).getAll('entries')).length >= n"
    second.wait_for_function(stored, arg=N)
    pulled = {e["id"]: e for e in local_entries(second) if e["id"] in ids}
    assert pulled == {i: msgspec.structs.asdict(truth[i]) for i in ids}, "the new phone holds other entries"
