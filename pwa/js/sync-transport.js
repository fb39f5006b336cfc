// @ts-check
/** Transport (docs/sync-protocol.md §3, §4, §11 P2, P3): a request, sent, its bytes counted. */
import { promisifyRequest as req, tx } from "./db.js";
import { wire } from "./outbox.js";
import { PROTOCOL } from "./constants.js";
import "./version.js";

/** Sent as `app`: the one version of js/version.js, which sw.js loads too. */
export const APP_VERSION = /** @type {string} */ (/** @type {any} */ (self).NUANXIN_VERSION);
const GZIP_OVER = 1024;

export class HttpError extends Error {
  /** @param {number} code */
  constructor(code) { super(`HTTP ${code}`); this.code = code; }
}

/**
 * P3 and M2: entries with an urgent change go first, but each entry's changes keep the order
 * they were made in (the server applies one device's edits in arrival order).
 * @template {{entry: string, urgent: boolean}} C
 * @param {C[]} changes in outbox order
 * @returns {C[]}
 */
export function urgentFirst(changes) {
  const urgent = new Set(changes.filter((c) => c.urgent).map((c) => c.entry));
  return [...changes.filter((c) => urgent.has(c.entry)), ...changes.filter((c) => !urgent.has(c.entry))];
}

/**
 * P2, P3: up to `limit` changes, urgent first, rejected ones held back; `fold`: no echo (§4);
 * `compact`: entries as arrays (§4, sync-apply.js `expand`).
 * @param {string} cursor @param {number} deviceTime @param {number} limit
 */
export async function request(cursor, deviceTime, limit) {
  const all = await tx(["outbox"], "readonly", (s) => req(s.outbox.index("n").getAll()));
  const waiting = all.filter((c) => c.status !== "rejected");
  const changes = urgentFirst(waiting).slice(0, limit).map(wire);
  const body = {
    protocol: PROTOCOL, app: APP_VERSION, device_time: deviceTime, cursor, fold: true, compact: true, changes,
  };
  return { body, rest: waiting.length - changes.length };
}

/**
 * @param {string} token @param {Record<string, any>} body
 * @returns {Promise<any>}
 */
export async function post(token, body) {
  const text = JSON.stringify(body);
  /** @type {Record<string, string>} */
  const headers = { "Content-Type": "application/json", Authorization: `Bearer ${token}` };
  /** @type {BodyInit} */
  let payload = text;
  let sent = new TextEncoder().encode(text).length;
  if (sent > GZIP_OVER && typeof CompressionStream === "function") {
    const gz = await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
    payload = gz;
    sent = gz.byteLength;
    headers["Content-Encoding"] = "gzip";
  }
  const res = await fetch("/api/sync", { method: "POST", headers, body: payload, cache: "no-store" });
  const answer = await res.text();
  // Count what went over the air: the compressed size when the server says it.
  const got = Number(res.headers.get("Content-Length")) || new TextEncoder().encode(answer).length;
  await countBytes(sent + got);
  let json = null;
  try { json = JSON.parse(answer); } catch { /* not JSON: an error page from a proxy */ }
  if (!res.ok || !json) throw new HttpError(res.status);
  return json;
}

/** Bytes used by sync this calendar month, kept in meta `usage`. @param {number} n */
function countBytes(n) {
  const month = new Date().toISOString().slice(0, 7);
  return tx(["meta"], "readwrite", async (s) => {
    const u = (await req(s.meta.get("usage"))) || {};
    s.meta.put({ month, bytes: (u.month === month ? u.bytes : 0) + n }, "usage");
  });
}
