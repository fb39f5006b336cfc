"""An urgent change as one text message (docs/sms.md). Pure: no I/O, no clock reads.

The phone encodes (pwa/js/sms.js), the server parses and verifies; tests/vectors/sms.json pins
the format for both. A message is tokens separated by single spaces, every character in the GSM
7-bit basic set, at most 160 of them:

    NX1 <WHAT> <device> <site> <change id> <entry id> <stamp> <at> [<item> <unit> <qty>] <note> <mac>

An id that is the change's stamp (as the phone makes them since app 0.5) is the token "=".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from typing import Any

TAG = "NX1"
MAX_CHARS = 160  # one SMS in GSM 7-bit
MAC_CHARS = 8  # 48 bits of HMAC-SHA256 (docs/sms.md, "The code")
WINDOW_MS = 7 * 24 * 3600 * 1000  # a message further than this from the server's clock is refused
WHAT = {"INJURY": ("checkin", "injury"), "EXPOSURE": ("checkin", "exposure"), "REQUEST": ("request", None)}
SCHEMA = {"checkin": 1, "request": 1}  # the schema versions this format carries

_RAW = re.compile(r"^[A-Za-z0-9.,:!?()'/+_-]+$")  # text sent as itself; anything else *base64(UTF-16)
_DEVICE = re.compile(r"^[a-z0-9]{1,32}$")
_QTY = re.compile(r"^\d{1,8}(\.\d{1,6})?$")
_B64 = re.compile(r"^[A-Za-z0-9_-]*$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_STAMP = re.compile(r"^(\d{13})-([0-9a-f]{4})-([a-z0-9]{1,32})$")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


class SmsError(ValueError):
    """A change that cannot go as one SMS, or a message that is not one of ours."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code  # unsupported, too_long (encode); malformed, forged (parse, verify)
        self.reason = reason


@dataclass(frozen=True)
class Parsed:
    device: str
    change: dict[str, Any]  # as POST /api/sync would carry it
    body: str  # the signed part: the text before the code
    mac: str


# -- tokens ---------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(token: str) -> bytes:
    if not _B64.match(token) or len(token) % 4 == 1:
        raise SmsError("malformed", f"{token!r} is not base64url")
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _text(value: str) -> str:
    # UTF-16: two bytes a Chinese character where UTF-8 takes three (docs/sms.md, "Size").
    return value if _RAW.match(value) else "*" + _b64(value.encode("utf-16-be"))


def _untext(token: str) -> str:
    if not token.startswith("*"):
        if not _RAW.match(token):
            raise SmsError("malformed", f"{token!r} is not a text token")
        return token
    try:
        return _unb64(token[1:]).decode("utf-16-be")
    except UnicodeDecodeError:
        raise SmsError("malformed", "a text is not UTF-16") from None


def _id(value: Any, stamp: str) -> str:
    """An id: "=" when it is the change's stamp, "=wall.counter" (base 36) for another stamp of
    this phone (ids since app 0.5), else a UUID in base64url."""
    if value == stamp:
        return "="
    match = _STAMP.match(value) if isinstance(value, str) else None
    if match and match[3] == stamp[19:]:
        return f"={_base36(int(match[1]))}.{_base36(int(match[2], 16))}"
    if not isinstance(value, str) or not _UUID.match(value):
        raise SmsError("unsupported", "only UUID ids fit in an SMS")
    return _b64(uuid.UUID(value).bytes)


def _unid(token: str, stamp: str) -> str:
    if token == "=":
        return stamp
    if token.startswith("="):
        wall_token, _, counter_token = token[1:].partition(".")
        wall, counter = _unbase36(wall_token), _unbase36(counter_token)
        if not (0 <= wall < 10**13 and 0 <= counter <= 0xFFFF):
            raise SmsError("malformed", f"{token!r} is not an id")
        return f"{wall:013d}-{counter:04x}-{stamp[19:]}"
    data = _unb64(token)
    if len(data) != 16:
        raise SmsError("malformed", f"{token!r} is not an id")
    return str(uuid.UUID(bytes=data))


def _base36(n: int) -> str:
    sign, n = ("-", -n) if n < 0 else ("", n)
    out = ""
    while True:
        n, d = divmod(n, 36)
        out = _DIGITS[d] + out
        if not n:
            return sign + out


def _unbase36(token: str) -> int:
    if not re.match(r"^-?[0-9a-z]{1,9}$", token):
        raise SmsError("malformed", f"{token!r} is not a number")
    return int(token, 36)


def _qty(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else ""
    if not _QTY.match(text):
        raise SmsError("unsupported", "the quantity does not fit in an SMS")
    return text


def _unqty(token: str) -> int | float:
    if not _QTY.match(token):
        raise SmsError("malformed", f"{token!r} is not a quantity")
    return float(token) if "." in token else int(token)


def code(key: str, body: str) -> str:
    """The authentication code: HMAC-SHA256 of the body under the device's SMS key, truncated."""
    return _b64(hmac.new(key.encode(), body.encode(), hashlib.sha256).digest())[:MAC_CHARS]


# -- encode (the phone's side; here for tests and tools) ------------------------------------


def _what(kind: str, fields: dict[str, Any]) -> tuple[str, list[str]]:
    """The kind word and the fields this kind carries, or SmsError if the change is not urgent."""
    injury = fields.get("injury_kind")
    if kind == "checkin" and fields.get("type") == "injury" and injury in ("injury", "exposure"):
        return injury.upper(), ["site", "at", "type", "injury_kind", "note"]
    if kind == "request" and fields.get("urgent") is True:
        return "REQUEST", ["site", "at", "item", "unit", "quantity", "urgent", "note"]
    raise SmsError("unsupported", "only injury or exposure reports and urgent requests go by SMS")


def encode(change: dict[str, Any], key: str) -> str:
    """The message for a change that creates an urgent entry; SmsError if it cannot be one SMS."""
    fields, base = change.get("fields") or {}, change.get("base") or {}
    what, allowed = _what(change.get("kind", ""), fields)
    if change.get("op", "put") != "put" or change.get("schema") != SCHEMA[change["kind"]]:
        raise SmsError("unsupported", "only the first version of a new entry goes by SMS")
    if set(fields) - set(allowed) or any(v is not None for v in base.values()) or set(base) != set(fields):
        raise SmsError("unsupported", "only a new entry, as first saved, goes by SMS")
    if not isinstance(fields.get("site"), str) or not isinstance(fields.get("at"), int):
        raise SmsError("unsupported", "the entry has no site or time")
    match = _STAMP.match(change.get("stamp", ""))
    if not match:
        raise SmsError("unsupported", "the change has no stamp")
    wall, counter, device = int(match[1]), int(match[2], 16), match[3]
    note = fields.get("note", "")
    if not isinstance(note, str) or ("note" in fields and not note):
        raise SmsError("unsupported", "an empty note is not sent")
    stamp = change["stamp"]
    tokens = [TAG, what, device, _text(fields["site"]), _id(change.get("id"), stamp), _id(change.get("entry"), stamp),
              f"{_base36(wall)}.{_base36(counter)}", _base36(fields["at"] - wall)]
    if what == "REQUEST":
        if not isinstance(fields.get("item"), str) or not isinstance(fields.get("unit"), str):
            raise SmsError("unsupported", "the request has no item or unit")
        tokens += [_text(fields["item"]), _text(fields["unit"]), _qty(fields.get("quantity"))]
    tokens.append(_text(note))
    body = " ".join(tokens)
    text = f"{body} {code(key, body)}"
    if len(text) > MAX_CHARS:
        raise SmsError("too_long", f"the message is {len(text)} characters; one SMS holds {MAX_CHARS}")
    return text


# -- parse and verify (the server's side) ----------------------------------------------------


def parse(text: str) -> Parsed:
    """Read a message into the change it carries; SmsError("malformed") if it is not one."""
    text = text.strip()
    if len(text) > MAX_CHARS:
        raise SmsError("malformed", f"longer than one SMS ({len(text)} characters)")
    tokens = text.split(" ")
    if len(tokens) < 2 or tokens[0] != TAG or tokens[1] not in WHAT:
        raise SmsError("malformed", f"not a {TAG} message")
    kind, injury = WHAT[tokens[1]]
    expected = 13 if kind == "request" else 10
    if len(tokens) != expected:
        raise SmsError("malformed", f"{tokens[1]} has {expected} parts, not {len(tokens)}")
    device, site, cid, eid, stamp_token, at = tokens[2:8]
    if not _DEVICE.match(device):
        raise SmsError("malformed", f"{device!r} is not a device id")
    wall_token, _, counter_token = stamp_token.partition(".")
    wall, counter = _unbase36(wall_token), _unbase36(counter_token)
    if not (0 <= wall < 10**13 and 0 <= counter <= 0xFFFF):
        raise SmsError("malformed", "the stamp is out of range")
    fields: dict[str, Any] = {"site": _untext(site), "at": wall + _unbase36(at)}
    if kind == "checkin":
        fields.update(type="injury", injury_kind=injury)
    else:
        item, unit, quantity = tokens[8:11]
        fields.update(item=_untext(item), unit=_untext(unit), quantity=_unqty(quantity), urgent=True)
    note = _untext(tokens[-2])
    if note:
        fields["note"] = note
    stamp = f"{wall:013d}-{counter:04x}-{device}"
    change = {
        "id": _unid(cid, stamp), "entry": _unid(eid, stamp), "kind": kind, "schema": SCHEMA[kind], "op": "put",
        "stamp": stamp, "fields": fields, "base": dict.fromkeys(fields),
    }
    return Parsed(device=device, change=change, body=text.rsplit(" ", 1)[0], mac=tokens[-1])


def verify(parsed: Parsed, key: str) -> None:
    """SmsError("forged") unless the code is the device's (compared in constant time)."""
    if not hmac.compare_digest(code(key, parsed.body).encode(), parsed.mac.encode()):
        raise SmsError("forged", "the code does not match this device's SMS key")


def within_window(parsed: Parsed, now_ms: int) -> bool:
    """A message stamped more than WINDOW_MS from the server's clock is refused as stale."""
    wall = int(parsed.change["stamp"][:13])
    return abs(now_ms - wall) <= WINDOW_MS
