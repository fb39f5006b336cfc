// @ts-check
/**
 * The deployment's settings (GET /api/config, docs/sync-protocol.md "Deployment settings"):
 * supply items, rest rules, subsidy rates, the township's sites. Fetched at start and after
 * enrolment, kept in meta `config` for use offline; the defaults stand until the first answer.
 */
import { getMeta, notify, setMetas } from "./db.js";
import { REST_RULES } from "./rest.js";
import { RATES } from "./subsidy.js";

/**
 * @type {{rest: typeof REST_RULES, rates: Record<string, number>,
 *   items: {zh: string, en: string, unit: string}[] | null, sites: {id: string, name: string}[]}}
 */
export const config = { rest: REST_RULES, rates: RATES, items: null, sites: [] };

/** @param {any} c */
function apply(c) {
  config.rest = { ...REST_RULES, ...c?.rest };
  config.rates = { ...RATES, ...c?.rates };
  config.items = Array.isArray(c?.items) && c.items.length ? c.items : null;
  config.sites = Array.isArray(c?.sites) ? c.sites : [];
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
