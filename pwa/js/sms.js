// @ts-check
/**
 * An urgent change as one text message (docs/sms.md): the phone's half of sync/sms.py, pinned by
 * tests/vectors/sms.json. Pure: no storage, no screen.
 *
 *   NX1 <WHAT> <device> <site> <change id> <entry id> <stamp> <at> [<item> <unit> <qty>] <note> <mac>
 */

export const MAX_CHARS = 160; // one SMS in GSM 7-bit
const TAG = "NX1";
const MAC_CHARS = 8; // 48 bits of HMAC-SHA256
const SCHEMA = /** @type {Record<string, number>} */ ({ checkin: 1, request: 1 });
const RAW = /^[A-Za-z0-9.,:!?()'/+_-]+$/; // text sent as itself; anything else *base64(UTF-16)
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STAMP = /^(\d{13})-([0-9a-f]{4})-([a-z0-9]{1,32})$/;
const QTY = /^\d{1,8}(\.\d{1,6})?$/;

export class SmsError extends Error {
  /** @param {"unsupported"|"too_long"} code @param {string} reason */
  constructor(code, reason) { super(reason); this.code = code; }
}
const unsupported = (/** @type {string} */ reason) => new SmsError("unsupported", reason);

/** base64url without padding. @param {Uint8Array} bytes */
function b64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** UTF-16 big-endian: two bytes a Chinese character, where UTF-8 takes three. @param {string} v */
function text(v) {
  if (RAW.test(v)) return v;
  const bytes = new Uint8Array(v.length * 2);
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    bytes[2 * i] = c >> 8;
    bytes[2 * i + 1] = c & 255;
  }
  return `*${b64(bytes)}`;
}

/** An id: "=" when it is the change's stamp, "=wall.counter" (base 36) for another stamp of
 * this phone (ids since app 0.5), else a UUID in base64url.
 * @param {any} v @param {string} stamp */
function id(v, stamp) {
  if (v === stamp) return "=";
  const m = STAMP.exec(v);
  if (m && m[3] === stamp.slice(19)) return `=${Number(m[1]).toString(36)}.${parseInt(m[2], 16).toString(36)}`;
  if (typeof v !== "string" || !UUID.test(v)) throw unsupported("only UUID ids fit in an SMS");
  const hex = v.replace(/-/g, "");
  return b64(Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16)));
}

/** @param {any} v */
function qty(v) {
  const s = typeof v === "number" ? String(v) : "";
  if (!QTY.test(s)) throw unsupported("the quantity does not fit in an SMS");
  return s;
}

/** The authentication code: HMAC-SHA256 of the body under the device's SMS key, truncated. */
export async function code(/** @type {string} */ key, /** @type {string} */ body) {
  const enc = new TextEncoder();
  const k = await crypto.subtle.importKey("raw", enc.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return b64(new Uint8Array(await crypto.subtle.sign("HMAC", k, enc.encode(body)))).slice(0, MAC_CHARS);
}

/** The kind word and the fields it carries. @param {string} kind @param {Record<string, any>} f */
function what(kind, f) {
  if (kind === "checkin" && f.type === "injury" && (f.injury_kind === "injury" || f.injury_kind === "exposure")) {
    return { word: f.injury_kind.toUpperCase(), allowed: ["site", "at", "type", "injury_kind", "note"] };
  }
  if (kind === "request" && f.urgent === true) {
    return { word: "REQUEST", allowed: ["site", "at", "item", "unit", "quantity", "urgent", "note"] };
  }
  throw unsupported("only injury or exposure reports and urgent requests go by SMS");
}

/**
 * The message for a change that creates an urgent entry. Throws SmsError when it cannot be one
 * SMS ("unsupported": not such a change; "too_long": over 160 characters).
 * @param {{id: string, entry: string, kind: string, schema: number, op?: string, stamp: string,
 *   fields?: Record<string, any>, base?: Record<string, string|null>}} change
 * @param {string} key the device's SMS key
 * @returns {Promise<string>}
 */
export async function encode(change, key) {
  const fields = change.fields || {};
  const base = change.base || {};
  const { word, allowed } = what(change.kind, fields);
  if ((change.op || "put") !== "put" || change.schema !== SCHEMA[change.kind]) {
    throw unsupported("only the first version of a new entry goes by SMS");
  }
  const names = Object.keys(fields);
  const same = names.length === Object.keys(base).length && names.every((n) => n in base);
  if (names.some((n) => !allowed.includes(n)) || Object.values(base).some((b) => b !== null) || !same) {
    throw unsupported("only a new entry, as first saved, goes by SMS");
  }
  if (typeof fields.site !== "string" || !Number.isInteger(fields.at)) throw unsupported("the entry has no site or time");
  const m = STAMP.exec(change.stamp || "");
  if (!m) throw unsupported("the change has no stamp");
  const wall = Number(m[1]);
  const note = "note" in fields ? fields.note : "";
  if (typeof note !== "string" || ("note" in fields && !note)) throw unsupported("an empty note is not sent");
  const tokens = [TAG, word, m[3], text(fields.site), id(change.id, change.stamp), id(change.entry, change.stamp),
    `${wall.toString(36)}.${parseInt(m[2], 16).toString(36)}`, (fields.at - wall).toString(36)];
  if (word === "REQUEST") {
    if (typeof fields.item !== "string" || typeof fields.unit !== "string") throw unsupported("the request has no item or unit");
    tokens.push(text(fields.item), text(fields.unit), qty(fields.quantity));
  }
  tokens.push(text(note));
  const body = tokens.join(" ");
  const message = `${body} ${await code(key, body)}`;
  if (message.length > MAX_CHARS) {
    throw new SmsError("too_long", `the message is ${message.length} characters; one SMS holds ${MAX_CHARS}`);
  }
  return message;
}
