// @ts-check
/** Scheduling (docs/sync-protocol.md §11 P6, P7, triggers): one sync at a time, and its `status`. */
import { bus, getMetas, notify, promisifyRequest as req, tx } from "./db.js";
import { inflight } from "./outbox.js";
import { MAX_CHANGES as MAX_BATCH } from "./constants.js";
import { HttpError, post, request } from "./sync-transport.js";
import { store } from "./sync-apply.js";

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

async function run() {
  const meta = await getMetas(["token", "cursor", "offset", "revoked", "person", "device"]);
  if (!meta.token || meta.revoked) return setPhase("enrol");
  if (!navigator.onLine) return setPhase("offline");
  setPhase("syncing");
  const me = { person: meta.person?.id, device: meta.device };
  let cursor = meta.cursor || "0";
  let offset = meta.offset || 0;
  try {
    for (;;) {
      const { body, rest } = await request(cursor, Date.now() + offset, batchLimit);
      let answer;
      /** @type {() => void} */
      let release = () => {};
      inflight.done = new Promise((r) => { release = r; });
      try {
        answer = await post(meta.token, body);
        // K4: device_time was already corrected, so clock_offset is what is left to correct.
        offset += answer.clock_offset || 0;
        cursor = answer.cursor;
        await store(answer, offset, me);
        offsetMs = offset;
      } finally {
        release();
      }
      failures = 0;
      batchLimit = MAX_BATCH;
      status.lastSync = Date.now();
      notify("data", {});
      // P6: a full page means more to pull; changes left over mean more to push.
      if (!answer.more && !rest) break;
    }
    clearTimeout(timer);
    status.retryAt = null;
    setPhase("idle");
  } catch (err) {
    fail(err);
  }
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
