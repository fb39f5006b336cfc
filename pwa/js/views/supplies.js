// @ts-check
/** 物资: stock on hand from the synced ledger, record a movement, request more. */
import { fmtDateTime, fmtNumber, getLang, t } from "../i18n.js";
import { list, remove, save } from "../outbox.js";
import { config } from "../config.js";
import { smsOffer } from "../sms-offer.js";
import { now } from "../sync.js";
import { announce, badge, choices, confirmButton, field, fill, h, noSite, problems, radioValue, section } from "../ui.js";

/** @typedef {import("../outbox.js").View} View */

/** The default items (the deployment's come with its settings): name on the wire (zh-CN), English name, unit. */
export const ITEMS = /** @type {[string, string, string][]} */ ([
  ["医用外科口罩", "Surgical mask", "个"],
  ["N95口罩", "N95 mask", "个"],
  ["一次性手套", "Disposable gloves", "副"],
  ["防护服", "Protective suit", "件"],
  ["护目镜", "Goggles", "副"],
  ["防护面屏", "Face shield", "个"],
  ["消毒液", "Disinfectant", "瓶"],
  ["免洗洗手液", "Hand sanitiser", "瓶"],
  ["额温枪", "Forehead thermometer", "支"],
]);
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
const synced = (v) => /** @type {Record<string, any>|null} */ (v.server && !v.server.deleted ? { ...v.server.fields, id: v.id } : null);

const byTime = (/** @type {Record<string, any>} */ a, /** @type {Record<string, any>} */ b) =>
  a.at - b.at || (a.id < b.id ? -1 : 1);

const DAY = 864e5;
/** The recent rate of use: used and issued over this many days. */
export const RATE_DAYS = 14;
/** Fewer days left than this is shown as running low. */
export const LOW_DAYS = 3;

/**
 * Stock of each item at a site from the synced ledger: the last stocktake plus later
 * movements (received +; used, issued, transferred −; a transfer to this site +), and the days
 * it lasts at the recent rate of use: used + issued over the last 14 days, per day (over fewer
 * days when the item's ledger is younger than that, at least one day, so a new site is not
 * told its stock lasts longer than it will). The item running out first comes first.
 * @param {View[]} views supply entries @param {string} site @param {number} now
 * @returns {{item: string, unit: string, quantity: number, perDay: number, days: number|null}[]}
 */
export function stockAt(views, site, now) {
  /** @type {Map<string, Record<string, any>[]>} */
  const byItem = new Map();
  for (const v of views) {
    const f = synced(v);
    if (!f || !(f.site === site || (f.movement === "transferred" && f.to_site === site))) continue;
    byItem.set(f.item, [...(byItem.get(f.item) || []), f]);
  }
  return [...byItem.entries()].map(([item, moves]) => {
    moves.sort(byTime);
    let quantity = 0;
    for (const m of moves) {
      const here = m.site === site;
      if (here && m.movement === "stocktake") quantity = m.quantity;
      else if (here && m.movement === "received") quantity += m.quantity;
      else if (here) quantity -= m.quantity; // used, issued, transferred away
      else quantity += m.quantity; // transferred to this site
    }
    const since = now - RATE_DAYS * DAY;
    const span = Math.min(RATE_DAYS, Math.max(1, (now - moves[0].at) / DAY));
    const used = moves.filter((m) => m.site === site && m.at > since && m.at <= now && (m.movement === "used" || m.movement === "issued"))
      .reduce((sum, m) => sum + m.quantity, 0);
    const perDay = used / span;
    return { item, unit: moves[moves.length - 1].unit, quantity, perDay, days: perDay > 0 ? Math.max(0, quantity) / perDay : null };
  }).sort((a, b) => (a.days ?? Infinity) - (b.days ?? Infinity) || a.item.localeCompare(b.item, "zh-CN"));
}

/** @param {View[]} views @param {string} site @param {string} item */
function latestStocktake(views, site, item) {
  const takes = views.map(synced).filter((f) => f && f.site === site && f.item === item && f.movement === "stocktake");
  return /** @type {Record<string, any>[]} */ (takes).sort(byTime).pop()?.id ?? null;
}

/** @returns {[string, string][]} */
const itemOptions = () => items().map(([zh]) => [zh, itemLabel(zh)]);

/**
 * Record a movement; also used to fix a refused one. `initial.site` is the site it is made at.
 * @param {Record<string, any>} initial @param {(fields: Record<string, any>) => any} onSave
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
  const form = /** @type {HTMLFormElement} */ (h("form", { class: "card", onchange: showTo, onsubmit: (/** @type {Event} */ ev) => {
    ev.preventDefault();
    const item = radioValue(form, "item") || initial.item;
    const movement = radioValue(form, "movement");
    onSave({
      item, unit: find(item) ? unitOf(item) : initial.unit || unitOf(item), movement,
      quantity: Number(qty.value), to_site: movement === "transferred" ? toSite.value.trim() : undefined,
      note: note.value.trim(),
    });
    qty.value = note.value = toSite.value = "";
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
 * @param {Record<string, any>} initial @param {(fields: Record<string, any>) => any} onSave
 */
export function requestForm(initial, onSave) {
  const item = /** @type {HTMLSelectElement} */ (h("select", { "data-test": "request-item" },
    itemOptions().map(([v, label]) => h("option", { value: v, selected: v === initial.item }, label))));
  const qty = /** @type {HTMLInputElement} */ (h("input", { type: "number", min: "1", step: "any", inputMode: "decimal", required: true, value: initial.quantity ?? "", "data-test": "request-quantity" }));
  const urgent = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", checked: Boolean(initial.urgent), "data-test": "request-urgent" }));
  const note = /** @type {HTMLTextAreaElement} */ (h("textarea", { rows: 2, maxLength: 2000, value: initial.note || "" }));
  const form = /** @type {HTMLFormElement} */ (h("form", { class: "card", onsubmit: (/** @type {Event} */ ev) => {
    ev.preventDefault();
    onSave({ item: item.value, unit: unitOf(item.value), quantity: Number(qty.value), urgent: urgent.checked, note: note.value.trim() });
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
    site && supplyForm({ site }, async (f) => {
      await save("supply", null, {
        site, ...f, at: now(), follows: f.movement === "stocktake" ? latestStocktake(supplies, site, f.item) : undefined,
      });
      announce(t("saved"));
    }),
    site && requestForm({}, async (f) => {
      await save("request", null, { site, ...f, at: now() });
      announce(t("saved"));
    }),
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
      mine && v.state !== "rejected" ? confirmButton(t("delete"), t("confirm_delete"), () => remove(v.id)) : null);
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
    const rows = site ? stockAt(supplies, site, now()) : [];
    const left = (/** @type {number|null} */ d) => (d === null ? t("no_use") : t("about_days", { n: fmtNumber(d, d < 10 ? 1 : 0) }));
    stock.replaceChildren(...(rows.length
      ? [h("table", { class: "stock" },
        h("thead", null, h("tr", null, h("th", { scope: "col" }, t("item")), h("th", { scope: "col" }, t("stock")), h("th", { scope: "col" }, t("days_left")))),
        h("tbody", null, rows.map((r) => h("tr", { "data-test": "stock-row", "data-item": r.item, "data-days": r.days === null ? "" : r.days.toFixed(2) },
          h("th", { scope: "row" }, itemLabel(r.item)),
          h("td", null, fmtNumber(r.quantity), " ", unitLabel(r.unit)),
          h("td", { class: r.days !== null && r.days < LOW_DAYS ? "low" : "" }, left(r.days)))))),
      h("p", { class: "muted small" }, t("stock_note"))]
      : [h("p", { class: "muted" }, t("no_stock"))]));
    const recent = (/** @type {View[]} */ l) => l.sort((a, b) => b.fields.at - a.fields.at).slice(0, 30);
    moves.replaceChildren(...recent(supplies).map(moveItem));
    requests.replaceChildren(...recent(views.filter((v) => v.kind === "request")).map(requestItem));
  }

  return { refresh };
}
