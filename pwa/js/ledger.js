// @ts-check
/**
 * The supply ledger (docs/sync-protocol.md §6 M6), the twin of sync/ledger.py. Pure; both pass
 * the shared vectors in tests/vectors/ledger.json. A movement is a `supply` entry's fields with
 * its `id`, `stamp` (of `at`) and, on the phone, `pending` (still in the outbox).
 */

/** @typedef {Record<string, any>} Movement */
/** @typedef {{item: string, unit: string, stock: number, per_day: number, days_left: number|null, unsynced: number}} StockRow */

import { LOW_DAYS, RATE_DAYS } from "./constants.js";

export { LOW_DAYS, RATE_DAYS };
const DAY_MS = 864e5;

/** Plain code-unit order, the same as Python's for these strings. @param {string} a @param {string} b */
const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** By `at`, then stamp, then id: one total order everywhere. @param {Movement} a @param {Movement} b */
export const byOrder = (a, b) => a.at - b.at || cmp(a.stamp || "", b.stamp || "") || cmp(a.id || "", b.id || "");

/** A movement of `site`'s ledger: made there, or a transfer to it. @param {Movement} m @param {string} site */
export const countsAt = (m, site) => m.site === site || (m.movement === "transferred" && m.to_site === site);

/** @param {Movement} m @param {string} site */
function signedQuantity(m, site) {
  if (m.movement === "received") return m.site === site ? m.quantity : 0;
  if (m.movement === "transferred" && m.to_site === site && m.site !== site) return m.quantity;
  if (["used", "issued", "transferred"].includes(m.movement) && m.site === site) return -m.quantity;
  return 0;
}

/** Stock at `site` from its movements of one item, in any order. @param {Movement[]} moves @param {string} site */
export function stock(moves, site) {
  let total = 0;
  for (const m of [...moves].sort(byOrder)) {
    if (m.movement === "stocktake" && m.site === site) total = m.quantity;
    else total += signedQuantity(m, site);
  }
  return total;
}

/**
 * Used and issued at `site` in the last RATE_DAYS days, per day, over fewer days when the
 * item's ledger is younger (at least one day).
 * @param {Movement[]} moves @param {string} site @param {number} now
 */
export function perDay(moves, site, now) {
  const ordered = [...moves].sort(byOrder);
  if (!ordered.length) return 0;
  const since = now - RATE_DAYS * DAY_MS;
  let used = 0;
  for (const m of ordered) {
    if (m.site === site && (m.movement === "used" || m.movement === "issued") && since < m.at && m.at <= now) used += m.quantity;
  }
  return used / Math.min(RATE_DAYS, Math.max(1, (now - ordered[0].at) / DAY_MS));
}

/** @param {number} current @param {number} rate @returns {number|null} */
export const daysLeft = (current, rate) => (rate > 0 ? Math.max(0, current) / rate : null);

/**
 * Each item's stock at `site`, its rate of use, days left and how many of its movements are not
 * yet synced; the item running out first comes first.
 * @param {Movement[]} movements @param {string} site @param {number} now @returns {StockRow[]}
 */
export function stockByItem(movements, site, now) {
  /** @type {Map<string, Movement[]>} */
  const byItem = new Map();
  for (const m of movements) {
    if (!countsAt(m, site)) continue;
    const l = byItem.get(m.item);
    if (l) l.push(m); else byItem.set(m.item, [m]);
  }
  /** @type {StockRow[]} */
  const rows = [];
  for (const [item, moves] of byItem) {
    moves.sort(byOrder);
    const current = stock(moves, site), rate = perDay(moves, site, now);
    rows.push({ item, unit: moves[moves.length - 1].unit, stock: current, per_day: rate, days_left: daysLeft(current, rate),
      unsynced: moves.filter((m) => m.pending).length });
  }
  const key = (/** @type {StockRow} */ r) => (r.days_left === null ? Infinity : r.days_left);
  return rows.sort((a, b) => key(a) - key(b) || cmp(a.item, b.item));
}
