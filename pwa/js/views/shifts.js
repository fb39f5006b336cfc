// @ts-check
/** 值班: start and end a shift in one tap, and the list of recent shifts. */
import { fmtDateTime, fmtDuration, fmtMoney, fmtNumber, fmtTime, t } from "../i18n.js";
import { list, save } from "../outbox.js";
import { config } from "../config.js";
import { restStatus } from "../rest.js";
import { CURRENCY, monthEstimate } from "../subsidy.js";
import { now } from "../sync-schedule.js";
import { badge, choices, field, fill, h, noSite, problems, radioValue, saving, section } from "../ui.js";

/** @typedef {import("../outbox.js").View} View */

export const KINDS = /** @type {[string, string][]} */ ([["day", "k_day"], ["night", "k_night"], ["on_call", "k_on_call"]]);

/** @returns {[string, string][]} */
export const kindOptions = () => KINDS.map(([v, k]) => [v, t(/** @type {any} */ (k))]);

/** @param {string} kind */
export const kindLabel = (kind) => t(/** @type {any} */ (`k_${kind || "day"}`));

/** A night shift is the likely one in the evening and small hours. */
const likelyKind = () => { const hr = new Date(now()).getHours(); return hr >= 18 || hr < 6 ? "night" : "day"; };

/** @param {HTMLElement} root @param {import("../app.js").Ctx} ctx */
export function mount(root, ctx) {
  const duty = h("div", { class: "duty" });
  const items = h("ul", { class: "list", "data-test": "shift-list" });
  const rest = h("div", { "data-test": "rest-status" });
  const subsidy = h("div", { "data-test": "subsidy" });
  const restCard = section(t("rest_title"), rest);
  const subsidyCard = section(t("subsidy_title"), subsidy);
  const site = ctx.me.site?.id;
  fill(root, 
    h("h1", null, t("shifts_title")),
    site ? duty : noSite(),
    restCard,
    subsidyCard,
    section(t("recent_shifts"), items,
      site ? h("a", { class: "button secondary", href: "#/shift/new", "data-test": "shift-add" }, t("add_past")) : null));

  /** A kind word on rest, by the deployment's rules. @param {View[]} shifts */
  function showRest(shifts) {
    const rules = config.rest;
    const r = restStatus(shifts.filter((v) => v.state !== "rejected").map((v) => v.fields), now(), rules, config.timezone);
    const lines = [
      r.long && t("rest_long", { t: fmtDuration(/** @type {number} */ (r.onDuty)), h: fmtNumber(rules.max_shift_hours) }),
      r.short && t("rest_short", { t: fmtDuration(/** @type {number} */ (r.rest)), h: fmtNumber(rules.min_rest_hours) }),
      r.tooMany && t("rest_many", { n: r.days }),
    ].filter(Boolean);
    rest.dataset.rest = [r.long && "long", r.short && "short", r.tooMany && "days"].filter(Boolean).join(" ") || "ok";
    rest.replaceChildren(...(lines.length
      ? lines.map((l) => h("p", { class: "note rest" }, l))
      : [h("p", null, t("rest_ok"), r.days > 1 ? ` · ${t("rest_days", { n: r.days })}` : "")]));
  }

  /** @param {View[]} shifts */
  function showSubsidy(shifts) {
    const e = monthEstimate(shifts.filter((v) => v.server).map((v) => v.server?.fields || {}), now(), config.rates, config.timezone);
    subsidy.replaceChildren(
      h("p", { class: "amount", "data-test": "subsidy-amount" }, fmtMoney(e.amount, CURRENCY)),
      h("p", { class: "muted" }, t("subsidy_hint", { h: fmtNumber(e.hours) })));
  }

  /** @type {string|null|undefined} */
  let onDuty;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let tick;

  /** @param {View[]} shifts */
  function startForm(shifts) {
    const posts = [...new Set(shifts.map((v) => v.fields.post).filter(Boolean))].slice(0, 4);
    const post = h("input", { type: "text", name: "post", required: true, maxLength: 100, autocomplete: "off", "data-test": "shift-post", value: posts[0] || "" });
    const form = /** @type {HTMLFormElement} */ (h("form", { class: "card", onsubmit: async (/** @type {Event} */ ev) => {
      ev.preventDefault();
      const value = /** @type {HTMLInputElement} */ (post).value.trim();
      if (!value) return post.focus();
      await saving(() => save("shift", null, { site, post: value, start: now(), kind: radioValue(form, "kind") || "day" }));
    } },
      field(t("post"), post),
      posts.length ? h("div", { class: "quick" }, posts.map((p) => h("button", { type: "button", class: "chip-btn", onclick: () => { /** @type {HTMLInputElement} */ (post).value = p; } }, p))) : null,
      choices("kind", t("kind"), kindOptions(), likelyKind()),
      h("button", { type: "submit", class: "big primary", "data-test": "shift-start" }, t("start_shift"))));
    return form;
  }

  /** @param {View} v */
  function endPanel(v) {
    const elapsed = h("p", { class: "elapsed", role: "timer" });
    const show = () => { elapsed.textContent = t("elapsed", { t: fmtDuration(now() - v.fields.start) }); };
    show();
    tick = setInterval(show, 30000);
    return h("div", { class: "card on-duty" },
      h("p", { class: "lead" }, t("on_duty", { post: v.fields.post }), " · ", kindLabel(v.fields.kind)),
      h("p", null, t("start"), " ", fmtTime(v.fields.start)),
      elapsed,
      h("button", { type: "button", class: "big danger", "data-test": "shift-end", onclick: () => saving(() => save("shift", v.id, { end: now() })) }, t("end_shift")));
  }

  /** @param {View} v */
  function item(v) {
    const f = v.fields;
    const span = f.end ? `${fmtDateTime(f.start)} – ${fmtTime(f.end)} · ${fmtDuration(f.end - f.start)}` : `${fmtDateTime(f.start)} ${t("open_end")}`;
    // §6 M8: the server sent an approved shift back to review because its times changed.
    const again = f.approval === "pending" && v.flags.includes("review_again");
    const approval = f.approval === "approved" || f.approval === "returned" || again
      ? h("p", { class: `approval ${again ? "review-again" : f.approval}`, "data-test": "shift-approval" },
        t(again ? "ap_review_again" : f.approval === "approved" ? "ap_approved" : "ap_returned"),
        f.approval_note && !again ? `${t("colon")}${f.approval_note}` : "")
      : null;
    return h("li", { class: "item", "data-test": "shift-item", "data-entry-id": v.id, "data-state": v.state },
      h("div", { class: "row" }, h("strong", null, f.post || "—"), h("span", { class: "muted" }, kindLabel(f.kind)), badge(v)),
      h("p", { class: "muted" }, span),
      f.note ? h("p", null, f.note) : null,
      v.flags.includes("clock_corrected") ? h("p", { class: "muted" }, t("clock_fixed")) : null,
      v.flags.includes("staff_times") ? h("p", { class: "muted", "data-test": "staff-times" }, t("staff_times")) : null,
      approval,
      problems(v, true),
      v.state === "rejected" ? null : h("a", { class: "link", href: `#/shift/${v.id}`, "data-test": "shift-edit" }, t("edit")));
  }

  async function refresh() {
    const shifts = (await list(["shift"])).sort((a, b) => (b.fields.start || 0) - (a.fields.start || 0));
    const open = shifts.find((v) => v.fields.start && (v.fields.end === null || v.fields.end === undefined));
    // Rebuild the duty panel only when going on or off duty, so typing is not interrupted.
    if (site && (open?.id ?? null) !== onDuty) {
      onDuty = open?.id ?? null;
      clearInterval(tick);
      duty.replaceChildren(open ? endPanel(open) : startForm(shifts));
    }
    // Nothing to say about rest or subsidy before the first shift.
    restCard.hidden = subsidyCard.hidden = !shifts.length;
    showRest(shifts);
    showSubsidy(shifts);
    items.replaceChildren(...(shifts.length ? shifts.slice(0, 40).map(item) : [h("li", { class: "empty" }, t("no_shifts"))]));
  }

  return { refresh, unmount: () => clearInterval(tick) };
}
