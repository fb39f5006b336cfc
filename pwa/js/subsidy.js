// @ts-check
/**
 * The month's work subsidy (工作补助) estimate from approved shifts, at the deployment's rates
 * (defaults generated from the server's in constants.js, until /api/config brings the township's)
 * and in the deployment's time zone, as the township's monthly sheet counts them; the sheet is
 * what is paid.
 */
import { RATES, TIMEZONE } from "./constants.js";
import { monthOf } from "./days.js";

export { RATES };
export const CURRENCY = "CNY";

const KINDS = ["day", "night", "on_call"];

/**
 * A month's approved hours by kind and their subsidy, the twin of sync/subsidy.py (the
 * township's sheet): a shift counts, whole, in the month it starts in (the deployment's zone),
 * once staff approved it and it has ended. Milliseconds are summed per kind first, as the sheet
 * sums them in SQL.
 * @param {Record<string, any>[]} shifts the person's shifts (fields) @param {string} month "YYYY-MM"
 * @param {string} zone @param {Record<string, number>} rates
 * @returns {{hours: Record<string, number>, amount: number}}
 */
export function monthPay(shifts, month, zone, rates) {
  /** @type {Record<string, number>} */
  const ms = { day: 0, night: 0, on_call: 0 };
  for (const s of shifts) {
    if (s.approval !== "approved" || !Number.isInteger(s.start) || !Number.isInteger(s.end) || s.end < s.start) continue;
    if (monthOf(s.start, zone) !== month) continue;
    ms[KINDS.includes(s.kind) ? s.kind : "day"] += s.end - s.start;
  }
  /** @type {Record<string, number>} */
  const hours = {};
  let amount = 0;
  for (const k of KINDS) {
    hours[k] = ms[k] / 3600000;
    amount += hours[k] * rates[k];
  }
  return { hours, amount: Math.floor(amount * 100 + 0.5) / 100 };
}

/**
 * This month's approved hours and their estimated subsidy (`monthPay` of the month `now` is in).
 * @param {Record<string, any>[]} shifts the person's shifts (fields)
 * @param {number} now
 * @param {Record<string, number>} [rates] @param {string} [zone]
 * @returns {{hours: number, amount: number}}
 */
export function monthEstimate(shifts, now, rates = /** @type {Record<string, number>} */ (RATES), zone = TIMEZONE) {
  const pay = monthPay(shifts, monthOf(now, zone), zone, rates);
  return { hours: Object.values(pay.hours).reduce((a, b) => a + b, 0), amount: pay.amount };
}
