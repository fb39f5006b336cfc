// @ts-check
/** 关怀: a check-in in a few taps, an urgent injury or exposure report, and one's own history. */
import { fmtDateTime, fmtNumber, t } from "../i18n.js";
import { list, save } from "../outbox.js";
import { smsOffer } from "../sms-offer.js";
import { now } from "../sync-schedule.js";
import { badge, choices, field, fill, h, noSite, problems, radioValue, saving, section } from "../ui.js";

/** @typedef {import("../outbox.js").View} View */

const SCALE = /** @type {[string, string][]} */ (["1", "2", "3", "4", "5"].map((n) => [n, n]));
const yesNo = () => /** @type {[string, string][]} */ ([["yes", t("yes")], ["no", t("no")]]);
/** @param {boolean|null|undefined} b */
const yn = (b) => (b === true ? "yes" : b === false ? "no" : null);

/**
 * Whether a check-in answers at least one question: one that does not is refused, here and by
 * the server (`checkin_answered` in sync/entries.py; tests/vectors/checkin_answered.json).
 * @param {Record<string, any>} f
 */
export const answered = (f) => ["fatigue", "sleep_hours", "mood", "ate", "rested"].some((q) => f[q] !== undefined && f[q] !== null)
  || f.talk === true || (typeof f.note === "string" && f.note.trim() !== "");

/**
 * The daily check-in; also used to fix a refused one. `onSave` resolves true once it is saved.
 * @param {Record<string, any>} initial @param {(fields: Record<string, any>) => Promise<boolean>} onSave
 */
export function checkinForm(initial, onSave) {
  const sleep = /** @type {HTMLInputElement} */ (h("input", { type: "number", min: "0", max: "24", step: "0.5", inputMode: "decimal", value: initial.sleep_hours ?? "", "data-test": "checkin-sleep" }));
  const talk = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", checked: Boolean(initial.talk), "data-test": "checkin-talk" }));
  const note = /** @type {HTMLTextAreaElement} */ (h("textarea", { rows: 2, maxLength: 2000, value: initial.note || "" }));
  const error = h("p", { class: "error", role: "alert", "data-test": "checkin-error" });
  const form = /** @type {HTMLFormElement} */ (h("form", { class: "card", onsubmit: async (/** @type {Event} */ ev) => {
    ev.preventDefault();
    const num = (/** @type {string} */ name) => { const v = radioValue(form, name); return v ? Number(v) : undefined; };
    const bool = (/** @type {string} */ name) => { const v = radioValue(form, name); return v ? v === "yes" : undefined; };
    const fields = {
      type: "checkin", fatigue: num("fatigue"), mood: num("mood"),
      sleep_hours: sleep.value === "" ? undefined : Number(sleep.value),
      ate: bool("ate"), rested: bool("rested"), talk: talk.checked, note: note.value.trim(),
    };
    error.textContent = answered(fields) ? "" : t("checkin_empty");
    if (error.textContent) return;
    if (await onSave(fields)) form.reset();
  } },
    h("h2", null, t("wellbeing_title")),
    choices("fatigue", t("fatigue") + t("paren", { x: t("fatigue_hint") }), SCALE, initial.fatigue ? String(initial.fatigue) : null, { class: "choices scale", "data-test": "checkin-fatigue" }),
    field(t("sleep"), sleep),
    choices("mood", t("mood") + t("paren", { x: t("mood_hint") }), SCALE, initial.mood ? String(initial.mood) : null, { class: "choices scale", "data-test": "checkin-mood" }),
    choices("ate", t("ate"), yesNo(), yn(initial.ate)),
    choices("rested", t("rested"), yesNo(), yn(initial.rested)),
    h("label", { class: "check" }, talk, h("span", null, t("talk"))),
    field(t("note"), note),
    error,
    h("button", { type: "submit", class: "big primary", "data-test": "checkin-submit" }, t("checkin_submit"))));
  return form;
}

/**
 * The urgent injury or exposure report; also used to fix a refused one.
 * @param {Record<string, any>} initial @param {(fields: Record<string, any>) => Promise<boolean>} onSave
 */
export function injuryForm(initial, onSave) {
  const note = /** @type {HTMLTextAreaElement} */ (h("textarea", { rows: 3, maxLength: 2000, value: initial.note || "", "data-test": "injury-note" }));
  const form = /** @type {HTMLFormElement} */ (h("form", { class: "card urgent-card", id: "injury", onsubmit: async (/** @type {Event} */ ev) => {
    ev.preventDefault();
    const kind = radioValue(form, "injury_kind");
    if (!kind) return /** @type {HTMLInputElement} */ (form.querySelector("input[name=injury_kind]")).focus();
    if (await onSave({ type: "injury", injury_kind: kind, note: note.value.trim() })) form.reset();
  } },
    h("h2", null, t("injury_title")),
    choices("injury_kind", t("injury_kind"), [["injury", t("ik_injury")], ["exposure", t("ik_exposure")]], initial.injury_kind),
    field(t("note"), note),
    h("button", { type: "submit", class: "big danger", "data-test": "injury-submit" }, t("injury_submit"))));
  return form;
}

/** @param {HTMLElement} root @param {import("../app.js").Ctx} ctx */
export function mount(root, ctx) {
  const history = h("ul", { class: "list", "data-test": "checkin-list" });
  const site = ctx.me.site?.id;
  const record = (/** @type {Record<string, any>} */ f) => saving(() => save("checkin", null, { site, at: now(), ...f }));
  const injury = site ? injuryForm({}, record) : null;
  // The urgent report comes after the check-in; this takes one there without scrolling past it.
  const toInjury = () => {
    injury?.scrollIntoView({ block: "start" });
    /** @type {HTMLInputElement|undefined} */ (injury?.querySelector("input"))?.focus({ preventScroll: true });
  };
  fill(root,
    h("h1", null, t("nav_wellbeing")),
    site ? h("button", { type: "button", class: "danger jump", "data-test": "injury-jump", onclick: toInjury }, t("injury_jump")) : null,
    site ? checkinForm({}, record) : noSite(),
    injury,
    section(t("history"), history));

  /** @param {View} v @param {View[]} followups */
  function item(v, followups) {
    const f = v.fields;
    const dash = (/** @type {any} */ x) => (x === undefined || x === null ? "—" : fmtNumber(x));
    const title = f.type === "injury" ? `${t("injury_title")}${t("colon")}${t(f.injury_kind === "exposure" ? "ik_exposure" : "ik_injury")}` : t("wellbeing_title");
    return h("li", { class: `item${f.type === "injury" ? " injury" : ""}`, "data-test": "checkin-item", "data-entry-id": v.id, "data-state": v.state },
      h("div", { class: "row" }, h("strong", null, title), badge(v)),
      h("p", { class: "muted" }, fmtDateTime(f.at)),
      f.type === "injury" ? null : h("p", null, t("checkin_line", { f: dash(f.fatigue), s: dash(f.sleep_hours), m: dash(f.mood) }),
        f.talk ? ` · ${t("talk_yes")}` : ""),
      f.note ? h("p", null, f.note) : null,
      problems(v, true),
      smsOffer(v),
      followups.map((u) => h("div", { class: "followup", "data-test": "followup" },
        h("p", null, h("strong", null, t("followup")), " ", h("span", { class: "muted" }, fmtDateTime(u.fields.at))),
        h("p", null, u.fields.note),
        u.fields.next_step ? h("p", null, `${t("next_step")}${t("colon")}${u.fields.next_step}`) : null)));
  }

  async function refresh() {
    const views = await list(["checkin", "followup"]);
    const followups = views.filter((v) => v.kind === "followup").sort((a, b) => a.fields.at - b.fields.at);
    const checkins = views.filter((v) => v.kind === "checkin").sort((a, b) => b.fields.at - a.fields.at).slice(0, 40);
    history.replaceChildren(...(checkins.length
      ? checkins.map((v) => item(v, followups.filter((u) => u.fields.checkin === v.id)))
      : [h("li", { class: "empty" }, t("no_history"))]));
  }

  return { refresh };
}
