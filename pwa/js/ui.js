// @ts-check
/** Small DOM helpers shared by the views: no framework, no inline style, no innerHTML. */
import { errorText, t } from "./i18n.js";
import { notify } from "./db.js";
import { discard } from "./outbox.js";

/**
 * Build an element. `props` keys starting with "on" add listeners; `data-*`, `aria-*` and
 * other attributes are set as attributes; `hidden`, `checked`, `value`... as properties.
 * @param {string} tag
 * @param {Record<string, any> | null} [props]
 * @param {...(Node|string|number|null|undefined|false|(Node|string|null|undefined|false)[])} children
 * @returns {HTMLElement}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k in el && !k.includes("-")) {
      // Read-only properties (input.list, .form) throw in a module: set the attribute instead.
      try { /** @type {any} */ (el)[k] = v; } catch { el.setAttribute(k, String(v)); }
    } else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "object" ? c : String(c));
  }
  return el;
}

/**
 * Append children to an element, skipping null, undefined and false.
 * @param {HTMLElement} parent @param {...(Node|string|null|undefined|false)} children
 */
export function fill(parent, ...children) {
  for (const c of children) if (c !== null && c !== undefined && c !== false) parent.append(c);
}

let uid = 0;
/** A unique id for label/input pairs. */
export const nextId = () => `f${++uid}`;

/**
 * A labelled input (or select/textarea passed in).
 * @param {string} label @param {HTMLElement} input @param {string} [hint]
 */
export function field(label, input, hint) {
  input.id ||= nextId();
  const kids = [h("label", { for: input.id }, label), input];
  if (hint) {
    const hid = nextId();
    input.setAttribute("aria-describedby", hid);
    kids.splice(1, 0, h("small", { id: hid, class: "hint" }, hint));
  }
  return h("div", { class: "field" }, kids);
}

/**
 * A group of radio buttons drawn as big chips.
 * @param {string} name @param {string} legend @param {[string, string][]} options value, label
 * @param {string|null|undefined} value @param {Record<string, any>} [props] on the fieldset
 */
export function choices(name, legend, options, value, props) {
  return h("fieldset", { class: "choices", ...props },
    h("legend", null, legend),
    options.map(([v, label]) => h("label", { class: "chip" },
      h("input", { type: "radio", name, value: v, defaultChecked: v === value }), h("span", null, label))));
}

/** @param {HTMLFormElement} form @param {string} name @returns {string} */
export function radioValue(form, name) {
  const el = /** @type {HTMLInputElement|null} */ (form.querySelector(`input[name="${name}"]:checked`));
  return el ? el.value : "";
}

/**
 * A button that asks once more in place before doing something that cannot be undone.
 * @param {string} label @param {string} ask @param {() => any} action @param {Record<string, any>} [props]
 */
export function confirmButton(label, ask, action, props) {
  const wrap = h("span", { class: "confirm" });
  const first = h("button", { type: "button", class: "secondary", ...props, onclick: () => {
    wrap.replaceChildren(
      h("button", { type: "button", class: "danger", "data-test": "confirm-yes", onclick: action }, ask),
      h("button", { type: "button", class: "secondary", onclick: () => wrap.replaceChildren(first) }, t("cancel")));
    /** @type {HTMLElement} */ (wrap.firstChild).focus();
  } }, label);
  wrap.append(first);
  return wrap;
}

/**
 * The sync state of an entry as a badge.
 * @param {import("./outbox.js").View} v
 */
export function badge(v) {
  const key = v.state === "local" && v.isNew ? "st_local_new" : `st_${v.state}`;
  return h("span", { class: `badge ${v.state}` }, t(/** @type {any} */ (key)));
}

/**
 * Under an entry: why it was refused (with 修改 / 放弃 unless `actions` is false), or that it
 * conflicts.
 * @param {import("./outbox.js").View} v @param {boolean} canFix @param {boolean} [actions]
 */
export function problems(v, canFix, actions = true) {
  if (v.state === "conflict") return h("p", { class: "note conflict" }, t("conflict_hint"));
  if (v.state !== "rejected" || !v.rejected) return null;
  const change = v.rejected;
  const errors = change.errors?.length ? change.errors : [{}];
  return h("div", { class: "rejected-box", role: "alert" },
    h("ul", null, errors.map((e) => h("li", null, errorText(e)))),
    actions && h("div", { class: "row" },
      canFix && change.op === "put" ? h("a", { class: "button secondary", href: `#/fix/${change.id}`, "data-test": "fix" }, t("fix")) : null,
      confirmButton(t("discard"), t("confirm_discard"), () => saving(() => discard(change.id), t("discarded")), { "data-test": "discard" })));
}

/** Instead of the forms, for a person enrolled with no site: the server would refuse them. */
export function noSite() {
  return h("p", { class: "rejected-box", "data-test": "no-site" }, t("no_site"));
}

/** @param {string} title @param {...any} children */
export function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", null, title), ...children);
}

/** Milliseconds as a value for <input type="datetime-local"> in the device's time zone. */
export function toLocalInput(/** @type {number|null|undefined} */ ms) {
  if (ms === null || ms === undefined) return "";
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

/** @param {string} value @returns {number|null} */
export function fromLocalInput(value) {
  if (!value) return null;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? null : ms;
}

let hideToast = 0;
/** Say something briefly, on screen and to a screen reader. @param {string} text */
export function say(text) {
  const el = /** @type {HTMLElement} */ (document.getElementById("toast"));
  el.textContent = text;
  el.hidden = false;
  clearTimeout(hideToast);
  hideToast = setTimeout(() => { el.hidden = true; }, 4000);
}

/**
 * Wait for a write to commit, then say 已保存; if it failed, say clearly that it was NOT saved
 * (the app shows it until a later write succeeds) and leave the form as it is.
 * @param {() => Promise<any>} write @param {string} [done] what to say then
 * @returns {Promise<boolean>} whether it was saved
 */
export async function saving(write, done = t("saved")) {
  try {
    await write();
  } catch (err) {
    notify("write", { ok: false, error: err });
    return false;
  }
  notify("write", { ok: true });
  say(done);
  return true;
}
