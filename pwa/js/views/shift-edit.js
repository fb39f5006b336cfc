// @ts-check
/** Edit a shift, or add a past one. */
import { t } from "../i18n.js";
import { list, remove, save } from "../outbox.js";
import { now } from "../sync-schedule.js";
import { choices, confirmButton, field, fill, fromLocalInput, h, problems, radioValue, saving, toLocalInput } from "../ui.js";
import { kindOptions } from "./shifts.js";

/**
 * The shift form; also used to fix a refused change.
 * @param {Record<string, any>} initial
 * @param {(fields: Record<string, any>) => Promise<boolean>} onSave resolves true once saved
 */
export function shiftForm(initial, onSave) {
  const input = (/** @type {Record<string, any>} */ p) => /** @type {HTMLInputElement} */ (h("input", p));
  const post = input({ type: "text", required: true, maxLength: 100, value: initial.post || "", "data-test": "shift-form-post" });
  const start = input({ type: "datetime-local", required: true, value: toLocalInput(initial.start), "data-test": "shift-form-start" });
  const end = input({ type: "datetime-local", value: toLocalInput(initial.end), "data-test": "shift-form-end" });
  const note = /** @type {HTMLTextAreaElement} */ (h("textarea", { rows: 2, maxLength: 2000, value: initial.note || "" }));
  const error = h("p", { class: "error", role: "alert" });
  const form = /** @type {HTMLFormElement} */ (h("form", { class: "card", onsubmit: (/** @type {Event} */ ev) => {
    ev.preventDefault();
    // An untouched time keeps its milliseconds: rounding it to the minute would send a
    // change of start or end that the person never made (and could win over a real one).
    const time = (/** @type {HTMLInputElement} */ el, /** @type {number|null|undefined} */ ms) =>
      el.value === toLocalInput(ms) ? ms ?? null : fromLocalInput(el.value);
    const fields = {
      post: post.value.trim(), start: time(start, initial.start), end: time(end, initial.end),
      kind: radioValue(form, "kind") || "day", note: note.value.trim(),
    };
    if (fields.end !== null && fields.start !== null && fields.end < fields.start) {
      error.textContent = t("e_end_before_start");
      return end.focus();
    }
    onSave(fields);
  } },
    field(t("post"), post),
    field(t("start"), start),
    field(t("end"), end),
    choices("kind", t("kind"), kindOptions(), initial.kind || "day"),
    field(t("note"), note),
    error,
    h("button", { type: "submit", class: "big primary", "data-test": "shift-form-save" }, t("save"))));
  return form;
}

/** @param {HTMLElement} root @param {import("../app.js").Ctx} ctx @param {string} arg "new" or an entry id */
export function mount(root, ctx, arg) {
  const isNew = arg === "new";
  (async () => {
    const v = isNew ? null : (await list(["shift"])).find((x) => x.id === arg);
    if ((!isNew && !v) || (isNew && !ctx.me.site?.id)) return ctx.go("#/shifts");
    const initial = v ? v.fields : { start: now() - 8 * 3600000, end: now(), kind: "day" };
    fill(root, 
      h("h1", null, t(isNew ? "add_past" : "edit_shift")),
      v ? problems(v, true) : null,
      v?.fields.approval === "approved" ? h("p", { class: "note", "data-test": "approved-warning" }, t("ap_edit_warning")) : null,
      v?.fields.approval === "returned" ? h("p", { class: "note", "data-test": "returned-reason" }, t("ap_returned"), v.fields.approval_note && [t("colon"), v.fields.approval_note]) : null,
      shiftForm(initial, async (fields) => {
        const saved = await saving(() => save("shift", v ? v.id : null, isNew ? { site: ctx.me.site?.id, ...fields } : fields));
        if (saved) ctx.go("#/shifts");
        return saved;
      }),
      v ? h("div", { class: "row" }, confirmButton(t("delete"), t("confirm_delete"), async () => {
        if (await saving(() => remove(v.id), t("deleted"))) ctx.go("#/shifts");
      }, { "data-test": "shift-delete" })) : null);
  })();
  return {};
}
