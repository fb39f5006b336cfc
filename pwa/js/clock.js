// @ts-check
/**
 * Hybrid logical clock (docs/sync-protocol.md §2), the twin of sync/clock.py.
 * A clock is a value {node, wall, counter}; `send` and `receive` return new ones.
 * A stamp is `WWWWWWWWWWWWW-CCCC-NODE` and sorts as a plain string.
 */

/** @typedef {{node: string, wall: number, counter: number}} Clock */

const MAX_COUNTER = 0xffff;
const STAMP_RE = /^(\d{13})-([0-9a-f]{4})-([a-z0-9]{1,32})$/;

/** @param {number} wall @param {number} counter @param {string} node */
export function format(wall, counter, node) {
  return `${String(wall).padStart(13, "0")}-${counter.toString(16).padStart(4, "0")}-${node}`;
}

/** @param {string} stamp @returns {{wall: number, counter: number, node: string}} */
export function parse(stamp) {
  const m = STAMP_RE.exec(stamp);
  if (!m) throw new Error(`not a stamp: ${stamp}`);
  return { wall: Number(m[1]), counter: parseInt(m[2], 16), node: m[3] };
}

/** @param {string} stamp */
export function nodeOf(stamp) {
  return stamp.slice(stamp.lastIndexOf("-") + 1);
}

/** C3: never raise on overflow; move the wall on by a millisecond. @returns {[number, number]} */
function carry(/** @type {number} */ wall, /** @type {number} */ counter) {
  return counter > MAX_COUNTER ? [wall + 1, 0] : [wall, counter];
}

/**
 * C1: a new local stamp at (corrected) physical time `now`.
 * @param {Clock} clock @param {number} now
 * @returns {{clock: Clock, stamp: string}}
 */
export function send(clock, now) {
  let wall, counter;
  if (now > clock.wall) [wall, counter] = [now, 0];
  else [wall, counter] = carry(clock.wall, clock.counter + 1);
  return { clock: { node: clock.node, wall, counter }, stamp: format(wall, counter, clock.node) };
}

/**
 * C2: take in a stamp seen from elsewhere, so later local stamps sort after it.
 * @param {Clock} clock @param {string} stamp @param {number} now
 * @returns {Clock}
 */
export function receive(clock, stamp, now) {
  const r = parse(stamp);
  const wall = Math.max(clock.wall, r.wall, now);
  let counter;
  if (wall === clock.wall && wall === r.wall) counter = Math.max(clock.counter, r.counter) + 1;
  else if (wall === clock.wall) counter = clock.counter + 1;
  else if (wall === r.wall) counter = r.counter + 1;
  else counter = 0;
  const [w, c] = carry(wall, counter);
  return { node: clock.node, wall: w, counter: c };
}
