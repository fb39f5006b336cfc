// @ts-check
/** First run (or after a revoked token): trade the code staff gave for a device token. */
import { getMetas, setMetas, tx } from "../db.js";
import { t } from "../i18n.js";
import { field, fill, h } from "../ui.js";

/**
 * POST /api/enrol and keep what it answers (§9). The clock's node becomes the device id; its
 * wall and counter carry on, so stamps stay in order across enrolments.
 * @param {string} code
 */
export async function enrol(code) {
  const sent = Date.now();
  const res = await fetch("/api/enrol", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code }), cache: "no-store",
  });
  const body = await res.json().catch(() => null);
  if (!res.ok || !body?.token) throw Object.assign(new Error("enrol"), { status: res.status, body });
  const old = await getMetas(["clock", "person"]);
  const offset = Math.round(body.server_time - (sent + Date.now()) / 2);
  // Another person on this phone must not see what was pulled for the last one (it is
  // pulled again from the server). The outbox, unsent work, is kept whatever happens.
  if (old.person?.id && old.person.id !== body.person?.id) await tx(["entries"], "readwrite", (s) => s.entries.clear());
  await setMetas({
    device: body.device, token: body.token, person: body.person, site: body.site,
    clock: { node: body.device, wall: old.clock?.wall || 0, counter: old.clock?.counter || 0 },
    offset, cursor: "0", revoked: undefined, enrolled_at: Date.now(),
  });
  return body;
}

/** @param {HTMLElement} root @param {import("../app.js").Ctx} ctx */
export function mount(root, ctx) {
  const code = /** @type {HTMLInputElement} */ (h("input", {
    type: "text", required: true, minLength: 4, maxLength: 32, autocomplete: "one-time-code",
    autocapitalize: "characters", spellcheck: false, "data-test": "enrol-code",
  }));
  const error = h("p", { class: "error", role: "alert" });
  const button = /** @type {HTMLButtonElement} */ (h("button", { type: "submit", class: "big primary", "data-test": "enrol-submit" }, t("enrol_submit")));
  fill(root, 
    h("h1", null, t("enrol_title")),
    ctx.revoked ? h("p", { class: "rejected-box" }, t("enrol_again")) : null,
    h("form", { class: "card", onsubmit: async (/** @type {Event} */ ev) => {
      ev.preventDefault();
      error.textContent = "";
      if (!navigator.onLine) { error.textContent = t("need_network"); return; }
      button.disabled = true;
      try {
        await enrol(code.value.trim());
        await ctx.enrolled();
      } catch (err) {
        const status = /** @type {any} */ (err).status;
        error.textContent = status === 429 ? t("enrol_busy") : status ? t("enrol_bad") : t("need_network");
      } finally {
        button.disabled = false;
      }
    } },
      h("p", null, t("enrol_help")),
      field(t("enrol_code"), code),
      error,
      button,
      ctx.me.token && !ctx.revoked ? h("a", { class: "button secondary", href: "#/me" }, t("cancel")) : null));
  code.focus();
  return {};
}
