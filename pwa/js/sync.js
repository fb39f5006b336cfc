// @ts-check
/**
 * The phone's side of POST /api/sync: docs/sync-protocol.md §11, steps P1–P7 cited below.
 * One sync at a time; `status` tells the status line what is going on.
 */
import { bus, getMetas, notify, promisifyRequest as req, tx } from "./db.js";
import { receive } from "./clock.js";
import { inflight, wire } from "./outbox.js";
import { config } from "./config.js";
import { MAX_CHANGES as MAX_BATCH, PROTOCOL } from "./constants.js";
import "./version.js";

/** Sent as `app`: the one version of js/version.js, which sw.js loads too. */
export const APP_VERSION = /** @type {string} */ (/** @type {any} */ (self).NUANXIN_VERSION);
const GZIP_OVER = 1024;
const BACKOFF_MIN = 2000;
const BACKOFF_MAX = 5 * 60 * 1000;
const EVERY = 60 * 1000;
const AFTER_EDIT = 2000;

/**
 * @typedef {"idle"|"syncing"|"offline"|"error"|"enrol"|"update"} Phase
 * @type {{phase: Phase, lastSync: number|null, retryAt: number|null}}
 */
export const status = { phase: "idle", lastSync: null, retryAt: null };

let offsetMs = 0;

/** C4: the corrected clock, Date.now() + the offset the server last measured. */
export function now() {
  return Date.now() + offsetMs;
}

/** Read what the status line and `now` need from meta (at start, after enrolment). */
export async function load() {
  const m = await getMetas(["lastSync", "offset"]);
  status.lastSync = m.lastSync || null;
  offsetMs = m.offset || 0;
}

/** @type {Promise<void> | null} */
let running = null;
let again = false;
let failures = 0;
let batchLimit = MAX_BATCH;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;

/** @param {Phase} phase */
function setPhase(phase) {
  status.phase = phase;
  notify("status", status);
}

/** Full jitter: a random wait up to 2 s × 2^failures, capped at 5 min (P7). */
export function backoffDelay(/** @type {number} */ n, rand = Math.random) {
  return Math.floor(rand() * Math.min(BACKOFF_MAX, BACKOFF_MIN * 2 ** n));
}

/** @param {number} ms */
function schedule(ms) {
  clearTimeout(timer);
  status.retryAt = Date.now() + ms;
  timer = setTimeout(() => { status.retryAt = null; syncNow(); }, ms);
}

/**
 * Sync now; if one is running, run once more after it. Resolves when the outbox has been sent
 * and every page pulled (or the attempt failed; see `status`).
 * @returns {Promise<void>}
 */
export function syncNow() {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    try {
      do {
        again = false;
        await run();
      } while (again && (status.phase === "idle"));
    } finally {
      running = null;
    }
  })();
  return running;
}

class HttpError extends Error {
  /** @param {number} code @param {any} body */
  constructor(code, body) { super(`HTTP ${code}`); this.code = code; this.body = body; }
}

async function run() {
  const meta = await getMetas(["token", "cursor", "offset", "revoked"]);
  if (!meta.token || meta.revoked) return setPhase("enrol");
  if (!navigator.onLine) return setPhase("offline");
  setPhase("syncing");
  let cursor = meta.cursor || "0";
  let offset = meta.offset || 0;
  try {
    for (;;) {
      // P2, P3: the whole outbox up to the batch limit, urgent first, rejected ones held back.
      const all = await tx(["outbox"], "readonly", (s) => req(s.outbox.index("n").getAll()));
      const waiting = all.filter((c) => c.status !== "rejected");
      const batch = urgentFirst(waiting).slice(0, batchLimit);
      const body = {
        protocol: PROTOCOL, app: APP_VERSION, device_time: Date.now() + offset,
        cursor, limit: 200, changes: batch.map(wire),
      };
      let answer;
      /** @type {() => void} */
      let release = () => {};
      inflight.done = new Promise((r) => { release = r; });
      try {
        answer = await post(meta.token, body);
        // K4: device_time was already corrected, so clock_offset is what is left to correct.
        offset += answer.clock_offset || 0;
        cursor = answer.cursor;
        await store(answer, offset);
        offsetMs = offset;
      } finally {
        release();
      }
      failures = 0;
      batchLimit = MAX_BATCH;
      status.lastSync = Date.now();
      notify("data", {});
      // P6: a full page means more to pull; a full batch means more to push.
      if (!answer.more && waiting.length <= batch.length) break;
    }
    clearTimeout(timer);
    status.retryAt = null;
    setPhase("idle");
  } catch (err) {
    fail(err);
  }
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

/** @param {unknown} err */
function fail(err) {
  if (err instanceof HttpError && err.code === 401) {
    // P7: enrol again; the outbox stays as it is.
    tx(["meta"], "readwrite", (s) => { s.meta.put(true, "revoked"); }).then(() => setPhase("enrol"));
    return;
  }
  if (err instanceof HttpError && err.code === 426) return setPhase("update");
  if (err instanceof HttpError && err.code === 413 && batchLimit > 1) {
    batchLimit = Math.ceil(batchLimit / 2); // send smaller batches
    again = true;
    status.phase = "idle";
    return;
  }
  // P7: network error, 5xx, or anything unexpected: back off with full jitter. A fetch that
  // never reached the server means we are offline, whatever navigator.onLine says.
  setPhase(err instanceof HttpError && navigator.onLine ? "error" : "offline");
  schedule(Math.max(1000, backoffDelay(failures)));
  failures = Math.min(failures + 1, 20);
}

/**
 * @param {string} token @param {Record<string, any>} body
 * @returns {Promise<any>}
 */
async function post(token, body) {
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
  if (!res.ok || !json) throw new HttpError(res.status, json);
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

/**
 * P4, P5: results, entries, cursor, offset and clock in one transaction.
 * @param {any} answer @param {number} offset
 */
function store(answer, offset) {
  return tx(["outbox", "entries", "meta"], "readwrite", async (s) => {
    /** @type {string[]} */
    const seen = [];
    for (const r of answer.results || []) {
      if (r.stamp) seen.push(r.stamp);
      const refused = r.status === "rejected" || (r.status === "duplicate" && r.first === "rejected");
      if (!refused) {
        s.outbox.delete(r.id);
        continue;
      }
      const c = await req(s.outbox.get(r.id));
      if (c) s.outbox.put({ ...c, status: "rejected", errors: r.errors || [] });
    }
    // The person's site changed: the server pulls from the start, so drop what was pulled.
    if (answer.reset) s.entries.clear();
    for (const e of answer.entries || []) {
      s.entries.put(e); // server state wins; pending changes stay laid on top
      for (const st of Object.values(e.stamps || {})) seen.push(st);
    }
    const now = Date.now() + offset;
    let clock = await req(s.meta.get("clock"));
    // K4: stamps made while the phone's clock ran ahead must not keep the clock there.
    if (clock && clock.wall > now + config.clock_tolerance_ms) clock = { ...clock, wall: now, counter: 0 };
    for (const st of seen) {
      try { clock = receive(clock, st, now); } catch { /* a stamp we cannot read: skip it */ }
    }
    s.meta.put(clock, "clock");
    s.meta.put(answer.cursor, "cursor");
    s.meta.put(offset, "offset");
    s.meta.put(Date.now(), "lastSync");
  });
}

/** Ask the service worker to wake us through Background Sync when the network is back. */
async function registerBackgroundSync() {
  try {
    const reg = /** @type {any} */ (await navigator.serviceWorker?.ready);
    await reg?.sync?.register("outbox");
  } catch { /* not supported, or not allowed: the other triggers cover it */ }
}

/** Wire up the triggers of §11: start, online, visible, after an edit, a timer, Background Sync. */
export async function start() {
  await load();
  /** Routine triggers wait for a scheduled retry; the person, `online` and Background Sync do not. */
  const routine = () => {
    if (!status.retryAt || Date.now() >= status.retryAt) syncNow();
  };
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let soon;
  bus.addEventListener("local-edit", () => {
    clearTimeout(soon);
    soon = setTimeout(routine, AFTER_EDIT);
    registerBackgroundSync();
  });
  addEventListener("online", () => { failures = 0; syncNow(); });
  addEventListener("offline", () => { if (!running) setPhase("offline"); });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") routine();
  });
  setInterval(() => { if (document.visibilityState === "visible") routine(); }, EVERY);
  navigator.serviceWorker?.addEventListener("message", (ev) => {
    if (ev.data?.type === "sync") syncNow();
  });
  syncNow();
}
