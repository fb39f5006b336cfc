// @ts-check
/**
 * Work subsidy (工作补助) rates, and the month's estimate from approved shifts. Defaults until
 * the deployment's own rates reach the phone (`monthEstimate` takes them as its last argument);
 * the township's monthly sheet is what is paid.
 */

/** Yuan per hour, by shift kind. */
export const RATES = /** @type {Record<string, number>} */ ({ day: 15, night: 20, on_call: 10 });
export const CURRENCY = "CNY";

/**
 * This month's approved hours and their estimated subsidy. A shift counts in the month it
 * starts in (the device's time zone), once staff approved it and it has ended.
 * @param {Record<string, any>[]} shifts the person's shifts (fields)
 * @param {number} now
 * @param {Record<string, number>} [rates]
 * @returns {{hours: number, amount: number}}
 */
export function monthEstimate(shifts, now, rates = RATES) {
  const month = new Date(now);
  let hours = 0, amount = 0;
  for (const s of shifts) {
    if (s.approval !== "approved" || typeof s.start !== "number" || typeof s.end !== "number" || s.end < s.start) continue;
    const d = new Date(s.start);
    if (d.getFullYear() !== month.getFullYear() || d.getMonth() !== month.getMonth()) continue;
    const h = (s.end - s.start) / 3600000;
    hours += h;
    amount += h * (rates[s.kind] ?? rates.day);
  }
  return { hours, amount: Math.round(amount * 100) / 100 };
}
