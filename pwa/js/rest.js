// @ts-check
/**
 * Rest rules of the deployment, and the rest status they give from a worker's own shifts.
 * These are the defaults, named as the server's deployment settings name them; `restStatus`
 * takes a deployment's own rules as its last argument.
 */

export const REST_RULES = {
  /** On duty longer than this, now. */
  max_shift_hours: 12,
  /** Less rest than this between the last two shifts. */
  min_rest_hours: 8,
  /** This many days in a row with a shift, no day off. */
  max_days_without_rest: 7,
};

const HOUR = 3600000;

/** A local calendar day as a number that steps by one per day (DST-proof). @param {number} ms */
const dayOf = (ms) => { const d = new Date(ms); return Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) / 864e5; };

/**
 * @param {{start?: number|null, end?: number|null}[]} shifts the person's shifts (fields)
 * @param {number} now corrected clock
 * @param {typeof REST_RULES} [rules]
 * @returns {{onDuty: number|null, rest: number|null, days: number, long: boolean, short: boolean, tooMany: boolean}}
 *   onDuty: ms on duty in an open shift; rest: ms between the last two shifts; days: days in a
 *   row with a shift (counted by the day a shift starts, up to today or yesterday).
 */
export function restStatus(shifts, now, rules = REST_RULES) {
  const started = shifts.filter((s) => typeof s.start === "number" && s.start <= now)
    .sort((a, b) => /** @type {number} */ (a.start) - /** @type {number} */ (b.start));
  const open = started.filter((s) => s.end === null || s.end === undefined).pop();
  const onDuty = open ? now - /** @type {number} */ (open.start) : null;
  let rest = null;
  if (started.length > 1) {
    const [prev, last] = started.slice(-2);
    const gap = /** @type {number} */ (last.start) - (prev.end ?? Infinity);
    if (gap >= 0) rest = gap; // an overlap is a mistake in the entries, not a rest
  }
  const days = new Set(started.map((s) => dayOf(/** @type {number} */ (s.start))));
  let day = dayOf(now);
  if (!days.has(day)) day -= 1; // today may not have started yet: it is no day off so far
  let n = 0;
  while (days.has(day - n)) n++;
  return {
    onDuty, rest, days: n,
    long: onDuty !== null && onDuty > rules.max_shift_hours * HOUR,
    short: rest !== null && rest < rules.min_rest_hours * HOUR,
    tooMany: n >= rules.max_days_without_rest,
  };
}
