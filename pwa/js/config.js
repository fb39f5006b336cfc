// @ts-check
/**
 * The deployment's settings (GET /api/config, docs/sync-protocol.md §9): supply items, rest
 * rules, subsidy rates (the township's), its time zone, clock tolerance and the township's
 * sites. Fetched at start and after enrolment, kept in meta `config` for use offline; the
 * defaults generated from the server's (constants.js) stand until the first answer.
 */
import { getMeta, notify, setMetas } from "./db.js";
import { CLOCK_TOLERANCE_MS, RATES, REST_RULES, TIMEZONE } from "./constants.js";

/**
 * @type {{rest: typeof REST_RULES, rates: Record<string, number>,
 *   items: {zh: string, en: string, unit: string}[] | null, sites: {id: string, name: string}[],
 *   timezone: string, clock_tolerance_ms: number}}
 */
export const config = { rest: REST_RULES, rates: RATES, items: null, sites: [], timezone: TIMEZONE, clock_tolerance_ms: CLOCK_TOLERANCE_MS };

/** A zone this browser knows, else the default. @param {any} zone */
function knownZone(zone) {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return typeof zone === "string" ? zone : TIMEZONE;
  } catch {
    return TIMEZONE;
  }
}

/** @param {any} c */
function apply(c) {
  config.rest = { ...REST_RULES, ...c?.rest };
  config.rates = { ...RATES, ...c?.rates };
  config.items = Array.isArray(c?.items) && c.items.length ? c.items : null;
  config.sites = Array.isArray(c?.sites) ? c.sites : [];
  config.timezone = knownZone(c?.timezone ?? TIMEZONE);
  config.clock_tolerance_ms = Number.isFinite(c?.clock_tolerance_ms) ? c.clock_tolerance_ms : CLOCK_TOLERANCE_MS;
}

/** The last answer kept on this phone. */
export async function loadConfig() {
  apply(await getMeta("config"));
}

/** Ask the server; offline, or on any error, keep what we have. @param {string|undefined} token */
export async function fetchConfig(token) {
  if (!token || !navigator.onLine) return;
  try {
    const res = await fetch("/api/config", { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
    if (!res.ok) return;
    const c = await res.json();
    // The person's site now: set by staff after enrolment, or changed when they moved.
    const site = await getMeta("site");
    const moved = c.site !== undefined && c.site?.id !== site?.id;
    await setMetas(moved ? { config: c, site: c.site } : { config: c });
    apply(c);
    if (moved) notify("me", c.site);
    notify("data", {});
  } catch { /* offline or a bad answer: the kept settings stand */ }
}
