// @ts-check
/**
 * The field-level merge (docs/sync-protocol.md §6), the twin of sync/merge.py. Pure.
 * The phone uses `isSequential` to tell whether a pending edit will conflict.
 */
import { parse } from "./clock.js";

/** @param {string} stamp */
const nodeOf = (stamp) => parse(stamp).node;

const DELETED = "deleted";

/**
 * @typedef {{fields: Record<string, any>, stamps: Record<string, string>, deleted?: boolean}} State
 * @typedef {{op: "put"|"delete", stamp: string, fields?: Record<string, any>, base?: Record<string, string|null>}} Edit
 * @typedef {{value: any, stamp: string, device: string}} Candidate
 */

/**
 * M2: an edit follows the current value if it was made from it, or by the same device.
 * @param {string} current @param {string|null|undefined} base @param {string} stamp
 */
export function isSequential(current, base, stamp) {
  return current === base || nodeOf(current) === nodeOf(stamp);
}

/** @param {any} value @param {string} stamp @returns {Candidate} */
const candidate = (value, stamp) => ({ value, stamp, device: nodeOf(stamp) });

/** @param {State} state @param {string} name @param {any} value @param {string} stamp */
function set(state, name, value, stamp) {
  if (name === DELETED) state.deleted = value; else state.fields[name] = value;
  state.stamps[name] = stamp;
}

/**
 * @param {State} state @param {string} name @param {any} value @param {string} stamp
 * @param {string|null|undefined} base @param {Record<string, Candidate[]>} conflicts
 */
function mergeField(state, name, value, stamp, base, conflicts) {
  const current = state.stamps[name];
  if (current === undefined || isSequential(current, base, stamp)) { // M1, M2
    set(state, name, value, stamp);
    return;
  }
  const old = name === DELETED ? Boolean(state.deleted) : state.fields[name]; // M3
  if (JSON.stringify(old) !== JSON.stringify(value)) {
    conflicts[name] = [candidate(old, current), candidate(value, stamp)];
  }
  if (stamp > current) set(state, name, value, stamp);
}

/**
 * Merge one edit into an entry's state (or null).
 * @param {State|null} current @param {Edit} edit
 * @returns {{state: State, status: "applied"|"conflict", conflicts: Record<string, Candidate[]>}}
 */
export function merge(current, edit) {
  /** @type {State} */
  const state = current
    ? { fields: { ...current.fields }, stamps: { ...current.stamps }, deleted: Boolean(current.deleted) }
    : { fields: {}, stamps: {}, deleted: false };
  /** @type {Record<string, Candidate[]>} */
  const conflicts = {};
  const base = edit.base || {};
  if (edit.op === "delete") {
    const unseen = Object.entries(state.stamps)
      .filter(([name, s]) => name !== DELETED && !isSequential(s, base[name], edit.stamp))
      .map(([, s]) => s)
      .sort();
    if (unseen.length && !state.deleted) { // M5
      conflicts[DELETED] = [candidate(false, unseen[unseen.length - 1]), candidate(true, edit.stamp)];
      state.deleted = true;
      const old = state.stamps[DELETED] || "";
      state.stamps[DELETED] = edit.stamp > old ? edit.stamp : old;
    } else {
      mergeField(state, DELETED, true, edit.stamp, base[DELETED], conflicts);
    }
  } else {
    const tomb = state.stamps[DELETED];
    if (state.deleted && tomb && !isSequential(tomb, base[DELETED], edit.stamp)) {
      conflicts[DELETED] = [candidate(true, tomb), candidate(false, edit.stamp)];
    }
    for (const [name, value] of Object.entries(edit.fields || {})) {
      mergeField(state, name, value, edit.stamp, base[name], conflicts);
    }
  }
  return { state, status: Object.keys(conflicts).length ? "conflict" : "applied", conflicts };
}
