"""The shared vectors (tests/vectors/), run against the phone's modules in Chromium.

The page is a static file of the PWA (the manifest), not the app shell: it gives the modules the
server's origin to be imported from, without the app's own start-up running around them. Outcomes
are compared as dicts keyed by each vector's comment, so a failure names the vectors that differ.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from playwright.sync_api import Page

VECTORS = Path(__file__).parents[1] / "vectors"
CLOCK = json.loads((VECTORS / "clock.json").read_text("utf-8"))
MERGE = json.loads((VECTORS / "merge.json").read_text("utf-8"))
LEDGER = json.loads((VECTORS / "ledger.json").read_text("utf-8"))
OVERLAY = json.loads((VECTORS / "overlay.json").read_text("utf-8"))
URGENCY = json.loads((VECTORS / "urgency.json").read_text("utf-8"))
DAYS = json.loads((VECTORS / "days.json").read_text("utf-8"))
SUBSIDY = json.loads((VECTORS / "subsidy.json").read_text("utf-8"))
REST = json.loads((VECTORS / "rest.json").read_text("utf-8"))
FOLD = json.loads((VECTORS / "fold.json").read_text("utf-8"))
COMPACT = json.loads((VECTORS / "compact.json").read_text("utf-8"))

RUN_CLOCK = """async (vectors) => {
  const { send, receive } = await import("/js/clock.js");
  return vectors.map((vector) => {
    if (vector.stamps) return [...vector.stamps].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    let clock = vector.clock;
    return vector.ops.map((op) => {
      if (op.op === "send") {
        const next = send(clock, op.now);
        clock = next.clock;
        return { stamp: next.stamp, wall: clock.wall, counter: clock.counter };
      }
      clock = receive(clock, op.stamp, op.now);
      return { wall: clock.wall, counter: clock.counter };
    });
  });
}"""

RUN_MERGE = """async (vectors) => {
  const { merge } = await import("/js/merge.js");
  return vectors.map((vector) => {
    const before = JSON.stringify(vector.current);
    const outcome = merge(vector.current, vector.edit);
    return { outcome, current_untouched: JSON.stringify(vector.current) === before };
  });
}"""


RUN_LEDGER = """async (vectors) => {
  const { stockByItem } = await import("/js/ledger.js");
  return vectors.map((v) => stockByItem(v.movements, v.site, v.now));
}"""


RUN_OVERLAY = """async (vectors) => {
  const { overlay } = await import("/js/outbox.js");
  return vectors.map((v) => {
    const shown = overlay(v.server, v.changes);
    return { fields: shown.fields, stamps: shown.stamps, deleted: shown.deleted, state: shown.state,
      pending: shown.pending, is_new: shown.isNew };
  });
}"""

RUN_URGENT = """async (vectors) => {
  const { isUrgent } = await import("/js/outbox.js");
  return vectors.map((v) => isUrgent(v.kind, v.fields));
}"""

RUN_ORDER = """async (vectors) => {
  const { urgentFirst } = await import("/js/sync-transport.js");
  return vectors.map((v) => urgentFirst(v.changes).map((c) => c.id));
}"""

RUN_DAYS = """async (vectors) => {
  const { dayOf, monthOf } = await import("/js/days.js");
  return vectors.map((v) => ({ day: dayOf(v.ms, v.zone), month: monthOf(v.ms, v.zone) }));
}"""

RUN_SUBSIDY = """async (vectors) => {
  const { monthPay } = await import("/js/subsidy.js");
  return vectors.map((v) => monthPay(v.shifts, v.month, v.zone, v.rates));
}"""

RUN_REST = """async (vectors) => {
  const { restStatus } = await import("/js/rest.js");
  return vectors.map((v) => {
    const r = restStatus(v.shifts, v.now, v.rules, v.zone);
    return { on_duty: r.onDuty, rest: r.rest, days: r.days, long: r.long, short: r.short, too_many: r.tooMany };
  });
}"""

RUN_FOLD = """async (vectors) => {
  const { fold } = await import("/js/sync-apply.js");
  return vectors.map((v) => v.folds.reduce((held, f) => fold(held, f.change, f.stamp, f.seq, v.me), v.held));
}"""


RUN_COMPACT = """async (vectors) => {
  const { entriesOf } = await import("/js/sync-apply.js");
  return vectors.map((v) => entriesOf({ entries: v.wire }));
}"""


def run_in_page(new_phone: Callable[..., Page], script: str, vectors: list[dict], **options: object) -> dict:
    page = new_phone(**options)
    response = page.goto("/manifest.webmanifest")
    assert response is not None and response.ok
    comments = [v["comment"] for v in vectors]
    assert len(set(comments)) == len(comments), "vector comments must be unique"
    return dict(zip(comments, page.evaluate(script, vectors), strict=True))


def test_clock_js_passes_every_clock_vector(new_phone: Callable[..., Page]) -> None:
    outcomes = run_in_page(new_phone, RUN_CLOCK, CLOCK)
    assert outcomes == {v["comment"]: v["expected"] for v in CLOCK}


def test_merge_js_passes_every_merge_vector(new_phone: Callable[..., Page]) -> None:
    outcomes = run_in_page(new_phone, RUN_MERGE, MERGE)
    assert {c: o["outcome"] for c, o in outcomes.items()} == {v["comment"]: v["expected"] for v in MERGE}


def test_merge_js_leaves_the_state_it_was_given_untouched(new_phone: Callable[..., Page]) -> None:
    outcomes = run_in_page(new_phone, RUN_MERGE, MERGE)
    assert {c: o["current_untouched"] for c, o in outcomes.items()} == {v["comment"]: True for v in MERGE}


def test_ledger_js_passes_every_ledger_vector(new_phone: Callable[..., Page]) -> None:
    outcomes = run_in_page(new_phone, RUN_LEDGER, LEDGER)
    assert outcomes == {v["comment"]: v["expected"] for v in LEDGER}


def test_outbox_js_passes_every_overlay_vector(new_phone: Callable[..., Page]) -> None:
    outcomes = run_in_page(new_phone, RUN_OVERLAY, OVERLAY)
    assert outcomes == {v["comment"]: v["expected"] for v in OVERLAY}


def test_outbox_js_passes_every_urgency_vector(new_phone: Callable[..., Page]) -> None:
    assert run_in_page(new_phone, RUN_URGENT, URGENCY["urgent"]) == {
        v["comment"]: v["expected"] for v in URGENCY["urgent"]}
    assert run_in_page(new_phone, RUN_ORDER, URGENCY["order"]) == {
        v["comment"]: v["expected"] for v in URGENCY["order"]}


def test_days_js_passes_every_day_vector_on_a_phone_set_to_utc(new_phone: Callable[..., Page]) -> None:
    outcomes = run_in_page(new_phone, RUN_DAYS, DAYS, timezone_id="UTC")
    assert outcomes == {v["comment"]: {"day": v["day"], "month": v["month"]} for v in DAYS}


def test_subsidy_js_passes_every_subsidy_vector_on_a_phone_set_to_utc(new_phone: Callable[..., Page]) -> None:
    outcomes = run_in_page(new_phone, RUN_SUBSIDY, SUBSIDY, timezone_id="UTC")
    assert outcomes == {v["comment"]: v["expected"] for v in SUBSIDY}


def test_rest_js_passes_every_rest_vector_on_a_phone_set_to_utc(new_phone: Callable[..., Page]) -> None:
    outcomes = run_in_page(new_phone, RUN_REST, REST, timezone_id="UTC")
    assert outcomes == {v["comment"]: v["expected"] for v in REST}


def test_sync_apply_js_folds_every_fold_vector(new_phone: Callable[..., Page]) -> None:
    outcomes = run_in_page(new_phone, RUN_FOLD, FOLD)
    assert outcomes == {v["comment"]: v["expected"] for v in FOLD}


def test_sync_apply_js_reads_every_compact_vector(new_phone: Callable[..., Page]) -> None:
    outcomes = run_in_page(new_phone, RUN_COMPACT, COMPACT)
    assert outcomes == {v["comment"]: v["entries"] for v in COMPACT}
