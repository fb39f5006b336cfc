// @ts-check
/** First run (or after a revoked token): trade the code staff gave for a device token. */
import { getMetas, promisifyRequest as req, setMetas, tx } from "../db.js";
import { t } from "../i18n.js";
import { field, fill, h } from "../ui.js";
import { download } from "./me.js";

/** Records (entries, not changes) still waiting on this phone, refused ones too: they belong
 * to whoever made them. */
const outboxSize = () => tx(["outbox"], "readonly", async (s) => new Set((await req(s.outbox.getAll())).map((c) => c.entry)).size);

/**
 * POST /api/enrol and keep what it answers (§9). The clock's node becomes the device id; its
 * wall and counter carry on, so stamps stay in order across enrolments.
 *
 * If the code is another person's while the outbox still holds changes, nothing is kept: those
 * changes are the previous person's and must not be sent under the new person's token.
 * @param {string} code
 */
export async function enrol(code) {
  const old = await getMetas(["clock", "person"]);
  const waiting = old.person?.id ? await outboxSize() : 0;
  // §9: while changes wait, the server refuses (unspent) a code for anyone else.
  const expect_person = waiting ? old.person.id : undefined;
  const sent = Date.now();
  const res = await fetch("/api/enrol", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code, expect_person }),
    cache: "no-store",
  });
  const body = await res.json().catch(() => null);
  if (res.status === 409) {
    throw Object.assign(new Error("other person"), { other: { n: waiting, old: old.person.name, new: t("someone_else") } });
  }
  if (!res.ok || !body?.token) throw Object.assign(new Error("enrol"), { status: res.status, body });
  const other = old.person?.id && old.person.id !== body.person?.id;
  const offset = Math.round(body.server_time - (sent + Date.now()) / 2);
  // Another person on this phone must not see what was pulled for the last one (it is
  // pulled again from the server).
  if (other) await tx(["entries"], "readwrite", (s) => s.entries.clear());
  await setMetas({
    device: body.device, token: body.token, person: body.person, site: body.site,
    clock: { node: body.device, wall: old.clock?.wall || 0, counter: old.clock?.counter || 0 },
    offset, cursor: "0", revoked: undefined, enrolled_at: Date.now(),
  });
  return body;
}

/** @param {HTMLElement} root @param {import("../app.js").Ctx} ctx @param {string} [given] from a QR link, #/enrol/CODE */
export function mount(root, ctx, given) {
  const code = /** @type {HTMLInputElement} */ (h("input", {
    type: "text", required: true, minLength: 4, maxLength: 32, autocomplete: "one-time-code", inputMode: "text",
    autocapitalize: "characters", spellcheck: false, "data-test": "enrol-code",
  }));
  const error = h("p", { class: "error", role: "alert", "data-test": "enrol-error" });
  const button = /** @type {HTMLButtonElement} */ (h("button", { type: "submit", class: "big primary", "data-test": "enrol-submit" }, t("enrol_submit")));
  const pending = h("div");
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
        const { status, other } = /** @type {any} */ (err);
        error.textContent = other ? t("other_person", other)
          : status === 429 ? t("enrol_busy") : status ? t("enrol_bad") : t("need_network");
      } finally {
        button.disabled = false;
      }
    } },
      h("p", null, t("enrol_help")),
      field(t("enrol_code"), code),
      error,
      button,
      ctx.me.token && !ctx.revoked ? h("a", { class: "button secondary", href: "#/me" }, t("cancel")) : null),
    pending);
  // The code fills the field, and leaves the address bar and history.
  if (given) { code.value = given; history.replaceState(null, "", "#/enrol"); }
  code.focus();
  // Unsynced entries of the person enrolled before: say so, and offer to export them.
  (async () => {
    const n = ctx.me.person?.id ? await outboxSize() : 0;
    if (n) pending.replaceChildren(h("div", { class: "card" }, h("p", { "data-test": "enrol-pending" }, t("pending_of", { n, name: ctx.me.person.name })),
      h("button", { type: "button", class: "secondary", "data-test": "enrol-export", onclick: download }, t("export"))));
  })();
  return {};
}
