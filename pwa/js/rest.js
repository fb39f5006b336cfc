// @ts-check
/**
 * The rest status a worker's own shifts give under the deployment's rest rules (max_shift_hours:
 * on duty longer than this, now; min_rest_hours: less rest between the last two shifts;
 * max_days_without_rest: days in a row with a shift). The defaults are generated from the
 * server's (constants.js); `restStatus` takes the deployment's own rules and time zone.
 */
import { REST_RULES, TIMEZONE } from "./constants.js";
import { dayNumber, dayOf as calendarDay } from "./days.js";

export { REST_RULES };

const HOUR = 3600000;

/**
 * @param {{start?: number|null, end?: number|null}[]} shifts the person's shifts (fields)
 * @param {number} now corrected clock
 * @param {typeof REST_RULES} [rules] @param {string} [zone] the deployment's time zone: days are its days
 * @returns {{onDuty: number|null, rest: number|null, days: number, long: boolean, short: boolean, tooMany: boolean}}
 *   onDuty: ms on duty in an open shift; rest: ms between the last two shifts; days: days in a
 *   row with a shift (counted by the day a shift starts, up to today or yesterday).
 */
export function restStatus(shifts, now, rules = REST_RULES, zone = TIMEZONE) {
  const dayOf = (/** @type {number} */ ms) => dayNumber(calendarDay(ms, zone));
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
