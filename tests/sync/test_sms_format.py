"""An urgent change as one SMS (docs/sms.md): the shared vectors, then properties."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync import sms
from sync.entries import KINDS, check_entry, check_fields

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "sms.json").read_text("utf-8"))
KEY = VECTORS["key"]
W = 1_764_382_740_000
GSM_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")


def parsed(text: str, key: str = KEY) -> dict:
    message = sms.parse(text)
    sms.verify(message, key)
    return message.change


@pytest.mark.parametrize("vector", VECTORS["encode"], ids=[v["comment"] for v in VECTORS["encode"]])
def test_encode_vector(vector: dict) -> None:
    try:
        outcome = {"text": sms.encode(vector["change"], KEY)}
    except sms.SmsError as err:
        outcome = {"error": err.code}
    assert outcome == vector["expected"]


@pytest.mark.parametrize(
    "vector", [v for v in VECTORS["encode"] if "text" in v["expected"]], ids=lambda v: v["comment"]
)
def test_every_encoded_vector_reads_back_as_the_change_it_came_from(vector: dict) -> None:
    text = vector["expected"]["text"]
    assert len(text) <= sms.MAX_CHARS and set(text) <= GSM_BASIC
    assert parsed(text) == vector["change"]


@pytest.mark.parametrize("vector", VECTORS["decode"], ids=[v["comment"] for v in VECTORS["decode"]])
def test_decode_vector(vector: dict) -> None:
    try:
        outcome = {"change": parsed(vector["text"], vector["key"])}
    except sms.SmsError as err:
        outcome = {"error": err.code}
    assert outcome == vector["expected"]


def test_the_vectors_cover_every_urgent_kind_and_the_size_limit() -> None:
    texts = [v["expected"]["text"] for v in VECTORS["encode"] if "text" in v["expected"]]
    assert {t.split(" ")[1] for t in texts} == set(sms.WHAT)
    assert max(len(t) for t in texts) == sms.MAX_CHARS
    assert any(v["expected"] == {"error": "too_long"} for v in VECTORS["encode"])


def _change(kind: str, fields: dict, counter: int = 0) -> dict:
    return {"id": str(uuid.uuid4()), "entry": str(uuid.uuid4()), "kind": kind, "schema": 1, "op": "put",
            "stamp": f"{W:013d}-{counter:04x}-k3j9x2abcd", "fields": fields, "base": dict.fromkeys(fields)}


notes = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
sites = st.sampled_from(["dongfeng", "s1", "东风村", "site-7"])


@st.composite
def urgent_changes(draw: st.DrawFn) -> dict:
    site, note, at = draw(sites), draw(notes), W + draw(st.integers(-10**9, 10**9))
    if draw(st.booleans()):
        injury = draw(st.sampled_from(["injury", "exposure"]))
        fields = {"site": site, "at": at, "type": "injury", "injury_kind": injury}
    else:
        quantity = draw(st.integers(1, 99_999) | st.sampled_from([0.5, 2.5, 12.25]))
        fields = {"site": site, "at": at, "item": draw(st.sampled_from(["N95口罩", "消毒液", "gloves"])),
                  "unit": draw(st.sampled_from(["个", "瓶", "pcs"])), "quantity": quantity, "urgent": True}
    if note:
        fields["note"] = note
    return _change("checkin" if "type" in fields else "request", fields, draw(st.integers(0, 0xFFFF)))


@given(urgent_changes())
def test_an_urgent_change_fits_one_sms_and_reads_back_exactly_or_is_refused_as_too_long(change: dict) -> None:
    try:
        text = sms.encode(change, KEY)
    except sms.SmsError as err:
        assert err.code == "too_long"
        return
    assert len(text) <= sms.MAX_CHARS and set(text) <= GSM_BASIC
    assert parsed(text) == change
    kind = KINDS[change["kind"]]
    assert check_fields(kind, 1, change["fields"]) == [] and check_entry(kind, change["fields"]) == []


@given(urgent_changes(), st.data())
def test_any_character_changed_on_the_way_is_refused(change: dict, data: st.DataObject) -> None:
    try:
        text = sms.encode(change, KEY)
    except sms.SmsError:
        return
    i = data.draw(st.integers(0, len(text) - 1))
    swapped = "B" if text[i] == "A" else "A"
    with pytest.raises(sms.SmsError) as err:
        parsed(text[:i] + swapped + text[i + 1:])
    assert err.value.code in ("malformed", "forged")


def test_a_message_far_from_the_server_clock_is_outside_the_window() -> None:
    message = sms.parse(VECTORS["encode"][0]["expected"]["text"])
    assert sms.within_window(message, W + sms.WINDOW_MS)
    assert not sms.within_window(message, W + sms.WINDOW_MS + 1)
    assert not sms.within_window(message, W - sms.WINDOW_MS - 1)
