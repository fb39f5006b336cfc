// @ts-check
/**
 * Days and months in the deployment's time zone (served in /api/config), never the phone's own:
 * a phone set to UTC counts a shift from 00:30 on the 1st in Shanghai in the same month as the
 * township's subsidy sheet. The twin of sync/days.py; both pass tests/vectors/days.json.
 */

/** @type {Map<string, Intl.DateTimeFormat>} */
const formats = new Map();

/** The calendar day ("YYYY-MM-DD") a moment falls on in `zone`. @param {number} ms @param {string} zone */
export function dayOf(ms, zone) {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" });
    formats.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
}

/** The month ("YYYY-MM") a moment falls in, in `zone`. @param {number} ms @param {string} zone */
export const monthOf = (ms, zone) => dayOf(ms, zone).slice(0, 7);

/** A day as a number that steps by one per calendar day (DST-proof). @param {string} day "YYYY-MM-DD" */
export const dayNumber = (day) => Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10))) / 864e5;
