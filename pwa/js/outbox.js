// @ts-check
/**
 * Local edits as changes in the outbox, and the overlay that shows the server state of each
 * entry with its pending changes laid on top (docs/sync-protocol.md §1, §11 P1).
 */
import { bus, notify, promisifyRequest as req, tx } from "./db.js";
import { send } from "./clock.js";
import { isSequential } from "./merge.js";
import { SCHEMA } from "./constants.js";

/**
 * @typedef {{id: string, entry: string, kind: string, schema: number, op: "put"|"delete",
 *   stamp: string, fields?: Record<string, any>, base: Record<string, string|null>,
 *   n: number, urgent: boolean, status: "pending"|"rejected", errors?: any[], created: number}} Change
 * @typedef {{id: string, kind: string, schema: number, site: string, author: string, device: string,
 *   fields: Record<string, any>, stamps: Record<string, string>, deleted?: boolean,
 *   conflicts?: string[], flags?: string[], seq?: number}} Entry
 * @typedef {"local"|"synced"|"rejected"|"conflict"} SyncState
 * @typedef {{id: string, kind: string, site: string, author: string, device: string,
 *   fields: Record<string, any>, stamps: Record<string, string>, deleted: boolean,
 *   state: SyncState, pending: boolean, isNew: boolean, server: Entry|null, rejected: Change|null,
 *   conflicts: string[], flags: string[]}} View
 */

/** Signalled between a sync's send and its answer being stored (see `remove`). */
export const inflight = { done: Promise.resolve() };

/** P3: wellbeing injury reports and urgent supply requests go first. */
export function isUrgent(/** @type {string} */ kind, /** @type {Record<string, any>} */ fields) {
  return (kind === "checkin" && fields.type === "injury") || (kind === "request" && fields.urgent === true);
}

/** The change as it goes on the wire (§4): local bookkeeping stripped. @param {Change} c */
export function wire(c) {
  const out = { id: c.id, entry: c.entry, kind: c.kind, schema: c.schema, op: c.op, stamp: c.stamp, base: c.base };
  return c.op === "put" ? { ...out, fields: c.fields } : out;
}

const byN = (/** @type {Change} */ a, /** @type {Change} */ b) => a.n - b.n;

/**
 * The entry as shown: server state with its changes laid over it in outbox order, and the
 * entry's sync state. Rejected puts are shown (so the person sees what was refused) but
 * count for nothing else; a rejected delete is not applied.
 * @param {Entry|null|undefined} server @param {Change[]} changes
 * @returns {View}
 */
export function overlay(server, changes) {
  const fields = { ...(server?.fields || {}) };
  const stamps = { ...(server?.stamps || {}) };
  let deleted = Boolean(server?.deleted);
  let conflict = Boolean(server?.conflicts?.length);
  /** @type {Change|null} */
  let rejected = null;
  let pending = 0;
  for (const c of [...changes].sort(byN)) {
    if (c.status === "rejected") {
      rejected = rejected || c;
      if (c.op === "put") Object.assign(fields, c.fields);
      continue;
    }
    pending++;
    const touched = c.op === "put" ? Object.keys(c.fields || {}) : Object.keys(stamps);
    for (const f of touched) {
      const current = stamps[f];
      // The server holds a value this change was not made from: it will merge as concurrent.
      if (current && !isSequential(current, c.base[f], c.stamp)) conflict = true;
    }
    if (c.op === "put") {
      for (const [f, v] of Object.entries(c.fields || {})) { fields[f] = v; stamps[f] = c.stamp; }
    } else {
      deleted = true;
      stamps.deleted = c.stamp;
    }
  }
  const first = changes[0];
  /** @type {SyncState} */
  const state = rejected ? "rejected" : conflict ? "conflict" : pending ? "local" : "synced";
  return {
    id: server?.id || first.entry,
    kind: server?.kind || first.kind,
    site: server?.site || fields.site,
    author: server?.author || "",
    device: server?.device || "",
    fields, stamps, deleted, state,
    pending: pending > 0,
    isNew: !server,
    server: server || null,
    rejected,
    conflicts: server?.conflicts || [],
    flags: server?.flags || [],
  };
}

/**
 * Every entry of the given kinds as shown, deleted ones left out.
 * @param {string[]} kinds
 * @returns {Promise<View[]>}
 */
export async function list(kinds) {
  const [entries, changes] = await tx(["entries", "outbox"], "readonly", async (s) => [
    /** @type {Entry[]} */ (await req(s.entries.getAll())),
    /** @type {Change[]} */ (await req(s.outbox.index("n").getAll())),
  ]);
  /** @type {Map<string, Change[]>} */
  const byEntry = new Map();
  for (const c of changes) {
    if (!kinds.includes(c.kind)) continue;
    const l = byEntry.get(c.entry);
    if (l) l.push(c); else byEntry.set(c.entry, [c]);
  }
  /** @type {View[]} */
  const out = [];
  for (const e of entries) {
    if (!kinds.includes(e.kind)) continue;
    out.push(overlay(e, byEntry.get(e.id) || []));
    byEntry.delete(e.id);
  }
  for (const cs of byEntry.values()) out.push(overlay(null, cs));
  return out.filter((v) => !v.deleted);
}

/**
 * How many records wait, and how many were refused: entries, not changes (a shift started and
 * ended offline is one record waiting, though it is two changes).
 */
export async function counts() {
  const all = /** @type {Change[]} */ (await tx(["outbox"], "readonly", (s) => req(s.outbox.getAll())));
  const entries = (/** @type {Change[]} */ cs) => new Set(cs.map((c) => c.entry)).size;
  const rejected = all.filter((c) => c.status === "rejected");
  return { pending: entries(all.filter((c) => c.status !== "rejected")), rejected: entries(rejected) };
}

/** Nothing, null and "" all mean "not filled in". @param {any} v */
const blank = (v) => v === undefined || v === null || v === "";
const same = (/** @type {any} */ a, /** @type {any} */ b) => (blank(a) && blank(b)) || JSON.stringify(a) === JSON.stringify(b);

/**
 * P1: record a local edit. `fields` are the values wanted; only those that differ from what
 * the phone shows become the change (a new entry sends every field that has a value). The
 * change and the new clock are written in one transaction. `replace` names a rejected change
 * this edit fixes: it is discarded in the same transaction.
 * @param {string} kind @param {string|null} entryId @param {Record<string, any>} fields
 * @param {{replace?: string}} [opts]
 * @returns {Promise<string>} the entry id
 */
export async function save(kind, entryId, fields, opts = {}) {
  let entry = entryId;
  const wrote = await tx(["entries", "outbox", "meta"], "readwrite", async (s) => {
    const server = /** @type {Entry|undefined} */ (entry ? await req(s.entries.get(entry)) : undefined);
    const changes = /** @type {Change[]} */ (entry ? await req(s.outbox.index("entry").getAll(entry)) : [])
      .filter((c) => c.status !== "rejected");
    const view = server || changes.length ? overlay(server, changes) : null;
    /** @type {Record<string, any>} */
    const set = {};
    for (const [f, v] of Object.entries(fields)) {
      if (v === undefined || (!view && blank(v))) continue;
      if (!view || !same(view.fields[f], v)) set[f] = v;
    }
    if (opts.replace) s.outbox.delete(opts.replace);
    if (!Object.keys(set).length) return Boolean(opts.replace);
    /** @type {Record<string, string|null>} */
    const base = {};
    for (const f of Object.keys(set)) base[f] = view?.stamps[f] ?? null;
    entry = await append(s, { entry, kind, op: "put", fields: set, base, urgent: isUrgent(kind, { ...view?.fields, ...set }) });
    return true;
  });
  if (wrote) notify("local-edit", { entry });
  return /** @type {string} */ (entry);
}

/**
 * Delete an entry. One the server never saw loses its pending changes instead (a tombstone
 * for an entry the server does not have would be refused as incomplete).
 * @param {string} entry
 */
export async function remove(entry) {
  await inflight.done.catch(() => {});
  await tx(["entries", "outbox", "meta"], "readwrite", async (s) => {
    const server = /** @type {Entry|undefined} */ (await req(s.entries.get(entry)));
    const all = /** @type {Change[]} */ (await req(s.outbox.index("entry").getAll(entry)));
    if (!server) {
      for (const c of all) s.outbox.delete(c.id);
      return;
    }
    const view = overlay(server, all.filter((c) => c.status !== "rejected"));
    // M5: name every field known with its stamp, so the server can tell what the delete saw.
    const base = { ...view.stamps };
    await append(s, { entry, kind: server.kind, op: "delete", base, urgent: false });
  });
  notify("local-edit", { entry });
}

/** Drop a rejected change: the person chose not to fix it. @param {string} changeId */
export async function discard(changeId) {
  await tx(["outbox"], "readwrite", (s) => { s.outbox.delete(changeId); });
  notify("data", {});
}

/**
 * Stamp and store one change, bumping the clock, inside the caller's transaction. Its id is its
 * stamp, and a new entry's id its first change's: a node never issues a stamp twice, and the
 * same string three times in a change costs a few bytes gzipped, where two UUIDs cost 38 (§4).
 * @param {Record<string, IDBObjectStore>} s
 * @param {{entry: string|null, kind: string, op: "put"|"delete", fields?: Record<string, any>,
 *   base: Record<string, string|null>, urgent: boolean}} c
 * @returns {Promise<string>} the entry id
 */
async function append(s, c) {
  const clock = await req(s.meta.get("clock"));
  const offset = (await req(s.meta.get("offset"))) || 0;
  const n = ((await req(s.meta.get("n"))) || 0) + 1;
  const now = Date.now() + offset; // C4: the corrected clock
  const sent = send(clock, now);
  /** @type {Change} */
  const change = {
    id: sent.stamp, entry: c.entry || sent.stamp, kind: c.kind, schema: /** @type {Record<string, number>} */ (SCHEMA)[c.kind] || 1, op: c.op,
    stamp: sent.stamp, base: c.base, n, urgent: c.urgent, status: "pending", created: now,
  };
  if (c.fields) change.fields = c.fields;
  s.outbox.put(change);
  s.meta.put(sent.clock, "clock");
  s.meta.put(n, "n");
  return change.entry;
}

/** Re-render on any data change. @param {() => void} fn @returns {() => void} unsubscribe */
export function onData(fn) {
  const types = ["local-edit", "data"];
  for (const ty of types) bus.addEventListener(ty, fn);
  return () => { for (const ty of types) bus.removeEventListener(ty, fn); };
}
