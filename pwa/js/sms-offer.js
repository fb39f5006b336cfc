// @ts-check
/**
 * 用短信发送 under an urgent entry that waits with no data connection (docs/sms.md): an `sms:`
 * link to the township's number with the message written; and, once the report came back by
 * sync having arrived by SMS, a badge that says so. Views call `smsOffer(view)`; the offers
 * on screen follow the connection and the waiting time on their own.
 */
import { bus, getMetas, promisifyRequest as req, tx } from "./db.js";
import { t } from "./i18n.js";
import { isUrgent } from "./outbox.js";
import { encode, SmsError } from "./sms.js";
import { now, status } from "./sync-schedule.js";
import { h } from "./ui.js";

/** An urgent entry waiting longer than this is offered by SMS prominently; before, on a tap. */
export const SMS_AFTER_MS = 10 * 60 * 1000;

const noData = () => !navigator.onLine || status.phase === "offline";

/**
 * The SMS offer (or the "arrived by SMS" badge) for an entry, or null.
 * @param {import("./outbox.js").View} v
 */
export function smsOffer(v) {
  if (v.flags.includes("sms")) return h("span", { class: "badge synced", "data-test": "sms-arrived" }, t("sms_arrived"));
  if (v.state !== "local" || !v.isNew || !isUrgent(v.kind, v.fields)) return null;
  const el = h("div", { class: "sms-offer", "data-sms": v.id });
  update(el);
  return el;
}

/** Draw one offer from what the phone holds now; nothing when SMS cannot help. @param {HTMLElement} el */
async function update(el) {
  const entry = el.dataset.sms || "";
  const [changes, meta] = await Promise.all([
    tx(["outbox"], "readonly", (s) => req(s.outbox.index("entry").getAll(entry))),
    getMetas(["config"]),
  ]);
  const sms = meta.config?.sms;
  const change = changes.length === 1 && changes[0].status === "pending" ? changes[0] : null;
  let view = null;
  if (change && sms?.number && sms?.key && noData()) {
    try {
      const text = await encode(change, sms.key);
      // `created` is on the corrected clock (§2 C4), as is `now`.
      view = { text, long: now() - change.created >= SMS_AFTER_MS };
    } catch (err) {
      if (!(err instanceof SmsError)) throw err;
      view = { tooLong: err.code === "too_long" };
    }
  }
  const key = JSON.stringify(view);
  if (el.dataset.drawn === key) return; // unchanged: do not repeat the alert to a screen reader
  el.dataset.drawn = key;
  if (!view || (!view.text && !view.tooLong)) return el.replaceChildren();
  if (!view.text) return el.replaceChildren(h("p", { class: "muted" }, t("sms_too_long")));
  el.replaceChildren(
    view.long ? h("p", { role: "alert" }, t("sms_waited", { n: SMS_AFTER_MS / 60000 })) : "",
    h("a", { class: `button ${view.long ? "danger" : "secondary"}`, "data-test": "sms-send",
      href: `sms:${sms.number}?body=${encodeURIComponent(view.text)}` }, t("sms_send")),
    h("p", { class: "muted small" }, t("sms_then")));
}

function updateAll() {
  for (const el of document.querySelectorAll("[data-sms]")) update(/** @type {HTMLElement} */ (el));
}
addEventListener("online", updateAll);
addEventListener("offline", updateAll);
bus.addEventListener("status", updateAll);
setInterval(updateAll, 30000);
