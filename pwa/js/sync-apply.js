// @ts-check
/** Applying an answer (docs/sync-protocol.md §11 P4, P5), in one IndexedDB transaction. */
import { promisifyRequest as req, tx } from "./db.js";
import { receive } from "./clock.js";
import { merge } from "./merge.js";
import { config } from "./config.js";

/**
 * §4 fold, the twin of sync/replica.py `folded`: what we hold of an entry once our change `c`
 * was applied and left out of the answer.
 * @param {any} old @param {any} c @param {string} stamp @param {number} seq @param {{person: string, device: string}} me
 */
export function fold(old, c, stamp, seq, me) {
  const { state } = merge(old || null, { ...c, stamp });
  return {
    id: c.entry, kind: old?.kind || c.kind, schema: c.schema, site: state.fields.site ?? old?.site,
    author: old?.author || me.person, device: old?.device || me.device, fields: state.fields,
    stamps: state.stamps, seq, deleted: Boolean(state.deleted), conflicts: old?.conflicts || [], flags: old?.flags || [],
  };
}

/**
 * §4 compact, the twin of sync/compact.py `expand`: the entry a compact entry (an array) stands
 * for, `after` the seq of the entry before it in the answer (0 for the first).
 * @param {any[]} w @param {number} after
 */
export function expand(w, after) {
  const [id, kind, schema, author, device, fields, stamp, seq,
    rest = {}, site = null, deleted = false, conflicts = [], flags = []] = w;
  /** @type {Record<string, string>} */
  const stamps = {};
  if (stamp !== null) {
    const full = stamp.split("-").length === 3 ? stamp : `${stamp}-${device}`;
    for (const name of Object.keys(fields)) stamps[name] = full;
  }
  return {
    id, kind, schema, site: site ?? fields.site, author, device, fields, stamps: { ...stamps, ...rest },
    seq: after + seq, deleted, conflicts, flags,
  };
}

/** An answer's entries as we hold them, compact (arrays) or not. @param {any} answer */
export function entriesOf(answer) {
  let seq = 0;
  return (answer.entries || []).map((/** @type {any} */ e) => {
    const held = Array.isArray(e) ? expand(e, seq) : e;
    seq = held.seq;
    return held;
  });
}

/** @param {any} answer @param {number} offset @param {{person: string, device: string}} me */
export function store(answer, offset, me) {
  return tx(["outbox", "entries", "meta"], "readwrite", async (s) => {
    /** @type {string[]} */
    const seen = [];
    const entries = entriesOf(answer);
    const echoed = new Set(entries.map((e) => e.id));
    // The person's site changed: the server pulls from the start, so drop what was pulled.
    if (answer.reset) s.entries.clear();
    for (const r of answer.results || []) {
      if (r.stamp) seen.push(r.stamp);
      const c = await req(s.outbox.get(r.id));
      if (r.status === "rejected" || (r.status === "duplicate" && r.first === "rejected")) {
        if (c) s.outbox.put({ ...c, status: "rejected", errors: r.errors || [] });
        continue;
      }
      s.outbox.delete(r.id);
      // Its echo left out: fold it into what we hold, in batch order.
      if (c && r.status === "applied" && r.seq && !echoed.has(c.entry)) {
        s.entries.put(fold(await req(s.entries.get(c.entry)), c, r.stamp, r.seq, me));
      }
    }
    for (const e of entries) {
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
