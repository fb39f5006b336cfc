// @ts-check
/** 物资: stock on hand from the ledger (what waits on the phone included), record a movement, request more. */
import { fmtDateTime, fmtNumber, getLang, t } from "../i18n.js";
import { list, remove, save } from "../outbox.js";
import { config } from "../config.js";
import { ITEMS as DEFAULT_ITEMS } from "../constants.js";
import { byOrder, LOW_DAYS, RATE_DAYS, stockByItem } from "../ledger.js";
import { smsOffer } from "../sms-offer.js";
import { now } from "../sync-schedule.js";
import { badge, choices, confirmButton, field, fill, h, noSite, problems, radioValue, saving, section } from "../ui.js";

/** @typedef {import("../outbox.js").View} View */

/** The default items (generated from the server's; the deployment's come with its settings): name on the wire (zh-CN), English name, unit. */
export const ITEMS = DEFAULT_ITEMS.map((i) => /** @type {[string, string, string]} */ ([i.zh, i.en, i.unit]));
const UNITS_EN = /** @type {Record<string, string>} */ ({ 个: "pcs", 副: "pairs", 件: "pcs", 瓶: "bottles", 支: "pcs" });
const MOVEMENTS = ["received", "used", "issued", "transferred", "stocktake"];

/** The deployment's items, or the defaults. @returns {[string, string, string][]} */
const items = () => config.items?.map((i) => /** @type {[string, string, string]} */ ([i.zh, i.en, i.unit])) || ITEMS;
/** @param {string} item */
const find = (item) => items().find((i) => i[0] === item) || ITEMS.find((i) => i[0] === item);
/** @param {string} item */
export const itemLabel = (item) => (getLang() === "en" && find(item)?.[1]) || item;
/** @param {string} unit */
const unitLabel = (unit) => (getLang() === "en" && UNITS_EN[unit]) || unit;
/** @param {string} item */
const unitOf = (item) => find(item)?.[2] || "个";
/** A site's name from the deployment's settings, else its id. @param {string} id */
const siteName = (id) => config.sites.find((s) => s.id === id)?.name || id;
/** @param {string} m */
const movementLabel = (m) => t(/** @type {any} */ (`m_${m}`));

/** A movement's synced fields with its id, or null when the server does not hold it. @param {View} v */
const synced = (v) => /** @type {Record<string, any>|null} */ (v.server && !v.server.deleted ? { ...v.server.fields, id: v.id, stamp: v.server.stamps.at } : null);

/**
 * A movement as the ledger counts it (pwa/js/ledger.js): what the phone shows, its own unsynced
 * ones included and marked; a refused one counts only as far as the server holds it.
 * @param {View} v
 */
function counted(v) {
  if (v.state === "rejected") return v.server && !v.server.deleted ? { ...v.server.fields, id: v.id, stamp: v.server.stamps.at } : null;
  return { ...v.fields, id: v.id, stamp: v.stamps.at, pending: v.pending };
}

/** @param {View[]} views @param {string} site @param {string} item */
function latestStocktake(views, site, item) {
  const takes = views.map(synced).filter((f) => f && f.site === site && f.item === item && f.movement === "stocktake");
  return /** @type {Record<string, any>[]} */ (takes).sort(byOrder).pop()?.id ?? null;
}

/** @returns {[string, string][]} */
const itemOptions = () => items().map(([zh]) => [zh, itemLabel(zh)]);

/**
 * Record a movement; also used to fix a refused one. `initial.site` is the site it is made at.
 * `onSave` resolves true once it is saved; the form then goes back to its defaults.
 * @param {Record<string, any>} initial @param {(fields: Record<string, any>) => Promise<boolean>} onSave
 */
export function supplyForm(initial, onSave) {
  const qty = /** @type {HTMLInputElement} */ (h("input", { type: "number", min: "0", step: "any", inputMode: "decimal", required: true, value: initial.quantity ?? "", "data-test": "supply-quantity" }));
  // The township's other sites to choose from, once the settings came; else the site's code.
  const others = config.sites.filter((s) => s.id !== initial.site);
  const toSite = /** @type {HTMLInputElement} */ (others.length
    ? h("select", { "data-test": "supply-to-site" }, h("option", { value: "" }, "—"),
      others.map((s) => h("option", { value: s.id, selected: s.id === initial.to_site }, s.name)))
    : h("input", { type: "text", maxLength: 64, value: initial.to_site || "", "data-test": "supply-to-site" }));
  const toField = field(t(others.length ? "f_to_site" : "to_site"), toSite);
  const note = /** @type {HTMLTextAreaElement} */ (h("textarea", { rows: 2, maxLength: 2000, value: initial.note || "" }));
  const showTo = () => {
    const on = radioValue(form, "movement") === "transferred";
    toField.hidden = !on;
    toSite.required = on;
  };
  const form = /** @type {HTMLFormElement} */ (h("form", { class: "card", onchange: showTo, onsubmit: async (/** @type {Event} */ ev) => {
    ev.preventDefault();
    const item = radioValue(form, "item") || initial.item;
    const movement = radioValue(form, "movement");
    const saved = await onSave({
      item, unit: find(item) ? unitOf(item) : initial.unit || unitOf(item), movement,
      quantity: Number(qty.value), to_site: movement === "transferred" ? toSite.value.trim() : undefined,
      note: note.value.trim(),
    });
    if (!saved) return;
    // Back to 使用 (a stocktake left chosen would count the next entry as the whole stock).
    form.reset();
    showTo();
  } },
    h("h2", null, t("record_movement")),
    choices("item", t("item"), itemOptions(), initial.item || items()[0][0], { class: "choices items" }),
    choices("movement", t("movement"), MOVEMENTS.map((m) => [m, movementLabel(m)]), initial.movement || "used"),
    field(t("quantity"), qty),
    toField,
    field(t("note"), note),
    h("button", { type: "submit", class: "big primary", "data-test": "supply-submit" }, t("save"))));
  showTo();
  return form;
}

/**
 * Request more; also used to fix a refused request.
 * @param {Record<string, any>} initial @param {(fields: Record<string, any>) => Promise<boolean>} onSave
 */
export function requestForm(initial, onSave) {
  const item = /** @type {HTMLSelectElement} */ (h("select", { "data-test": "request-item" },
    itemOptions().map(([v, label]) => h("option", { value: v, selected: v === initial.item }, label))));
  const qty = /** @type {HTMLInputElement} */ (h("input", { type: "number", min: "1", step: "any", inputMode: "decimal", required: true, value: initial.quantity ?? "", "data-test": "request-quantity" }));
  const urgent = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", checked: Boolean(initial.urgent), "data-test": "request-urgent" }));
  const note = /** @type {HTMLTextAreaElement} */ (h("textarea", { rows: 2, maxLength: 2000, value: initial.note || "" }));
  const form = /** @type {HTMLFormElement} */ (h("form", { class: "card", onsubmit: async (/** @type {Event} */ ev) => {
    ev.preventDefault();
    if (!(await onSave({ item: item.value, unit: unitOf(item.value), quantity: Number(qty.value), urgent: urgent.checked, note: note.value.trim() }))) return;
    qty.value = note.value = "";
    urgent.checked = false;
  } },
    h("h2", null, t("request_title")),
    field(t("item"), item),
    field(t("quantity"), qty),
    h("label", { class: "check" }, urgent, h("span", null, t("urgent"))),
    field(t("note"), note),
    h("button", { type: "submit", class: "big secondary", "data-test": "request-submit" }, t("request_submit"))));
  return form;
}

/** @param {HTMLElement} root @param {import("../app.js").Ctx} ctx */
export function mount(root, ctx) {
  const site = ctx.me.site?.id;
  const stock = h("div", { "data-test": "stock" });
  const moves = h("ul", { class: "list", "data-test": "supply-list" });
  const requests = h("ul", { class: "list", "data-test": "request-list" });
  /** @type {View[]} */
  let supplies = [];

  fill(root, 
    h("h1", null, t("supplies_title")),
    site ? section(t("stock"), stock) : noSite(),
    site && supplyForm({ site }, (f) => saving(() => save("supply", null, {
      site, ...f, at: now(), follows: f.movement === "stocktake" ? latestStocktake(supplies, site, f.item) : undefined,
    }))),
    site && requestForm({}, (f) => saving(() => save("request", null, { site, ...f, at: now() }))),
    section(t("movements"), moves),
    section(t("requests"), requests));

  /** @param {View} v */
  function moveItem(v) {
    const f = v.fields;
    const mine = v.isNew || v.author === ctx.me.person.id;
    return h("li", { class: "item", "data-test": "supply-item", "data-entry-id": v.id, "data-state": v.state },
      h("div", { class: "row" }, h("strong", null, movementLabel(f.movement), " ", itemLabel(f.item)),
        h("span", null, fmtNumber(f.quantity), " ", unitLabel(f.unit)), badge(v)),
      h("p", { class: "muted" }, fmtDateTime(f.at), f.to_site ? ` → ${siteName(f.to_site)}` : "", f.note ? ` · ${f.note}` : ""),
      problems(v, true),
      mine && v.state !== "rejected" ? confirmButton(t("delete"), t("confirm_delete"), () => saving(() => remove(v.id), t("deleted"))) : null);
  }

  /** @param {View} v */
  function requestItem(v) {
    const f = v.fields;
    return h("li", { class: "item", "data-test": "request-item", "data-entry-id": v.id, "data-state": v.state },
      h("div", { class: "row" }, h("strong", null, itemLabel(f.item), " ", fmtNumber(f.quantity), " ", unitLabel(f.unit)),
        f.urgent ? h("span", { class: "badge urgent" }, t("urgent")) : null,
        h("span", { class: "muted" }, t(/** @type {any} */ (`rq_${f.status || "open"}`))), badge(v)),
      h("p", { class: "muted" }, fmtDateTime(f.at), f.note ? ` · ${f.note}` : ""),
      problems(v, true),
      smsOffer(v));
  }

  async function refresh() {
    const views = await list(["supply", "request"]);
    supplies = views.filter((v) => v.kind === "supply");
    const movements = /** @type {Record<string, any>[]} */ (supplies.map(counted).filter(Boolean));
    const rows = site ? stockByItem(movements, site, now()) : [];
    const left = (/** @type {number|null} */ d) => (d === null ? t("no_use") : t("about_days", { n: fmtNumber(d, d < 10 ? 1 : 0) }));
    stock.replaceChildren(...(rows.length
      ? [h("table", { class: "stock" },
        h("thead", null, h("tr", null, h("th", { scope: "col" }, t("item")), h("th", { scope: "col" }, t("stock")), h("th", { scope: "col" }, t("days_left")))),
        h("tbody", null, rows.map((r) => h("tr", { "data-test": "stock-row", "data-item": r.item, "data-days": r.days_left === null ? "" : r.days_left.toFixed(2), "data-unsynced": r.unsynced },
          h("th", { scope: "row" }, itemLabel(r.item)),
          h("td", null, fmtNumber(r.stock), " ", unitLabel(r.unit), r.unsynced ? " " : null,
            r.unsynced ? h("span", { class: "badge local", "data-test": "stock-unsynced" }, t("stock_unsynced", { n: fmtNumber(r.unsynced) })) : null),
          h("td", { class: r.days_left !== null && r.days_left < LOW_DAYS ? "low" : "" }, left(r.days_left)))))),
      h("p", { class: "muted small" }, t("stock_note", { n: fmtNumber(RATE_DAYS) }))]
      : [h("p", { class: "muted" }, t("no_stock"))]));
    const recent = (/** @type {View[]} */ l) => l.sort((a, b) => b.fields.at - a.fields.at).slice(0, 30);
    moves.replaceChildren(...recent(supplies).map(moveItem));
    requests.replaceChildren(...recent(views.filter((v) => v.kind === "request")).map(requestItem));
  }

  return { refresh };
}
