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

/**
 * This month's approved hours and their estimated subsidy. A shift counts in the month it
 * starts in (the deployment's time zone), once staff approved it and it has ended.
 * @param {Record<string, any>[]} shifts the person's shifts (fields)
 * @param {number} now
 * @param {Record<string, number>} [rates] @param {string} [zone]
 * @returns {{hours: number, amount: number}}
 */
export function monthEstimate(shifts, now, rates = /** @type {Record<string, number>} */ (RATES), zone = TIMEZONE) {
  const month = monthOf(now, zone);
  let hours = 0, amount = 0;
  for (const s of shifts) {
    if (s.approval !== "approved" || typeof s.start !== "number" || typeof s.end !== "number" || s.end < s.start) continue;
    if (monthOf(s.start, zone) !== month) continue;
    const h = (s.end - s.start) / 3600000;
    hours += h;
    amount += h * (rates[s.kind] ?? rates.day);
  }
  return { hours, amount: Math.round(amount * 100) / 100 };
}
