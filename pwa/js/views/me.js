// @ts-check
/** 我的: who and where, language, data used, export and import, set up again. */
import { getMeta, getMetas, notify, promisifyRequest as req, setMetas, tx } from "../db.js";
import { receive } from "../clock.js";
import { fmtBytes, fmtDateTime, getLang, setLang, t } from "../i18n.js";
import { installPanel } from "../install.js";
import { APP_VERSION } from "../sync-transport.js";
import { confirmButton, fill, h, noSite, section } from "../ui.js";

const FORMAT = "nuanxin-export";

/** Everything on this phone except its secrets (the token, and the key that signs SMS
 * reports), as one JSON document: such files get passed around. */
export async function exportData() {
  return tx(["entries", "outbox", "meta"], "readonly", async (s) => {
    const keys = /** @type {string[]} */ (await req(s.meta.getAllKeys()));
    /** @type {Record<string, any>} */
    const meta = {};
    for (const k of keys) if (k !== "token") meta[k] = await req(s.meta.get(k));
    if (meta.config?.sms) meta.config = { ...meta.config, sms: null };
    return {
      format: FORMAT, version: 1, exported_at: Date.now(), meta,
      entries: await req(s.entries.getAll()), outbox: await req(s.outbox.index("n").getAll()),
    };
  });
}

/**
 * Bring back an export. Changes keep their ids, so one already here is skipped; an entry
 * replaces ours only when it is newer (higher seq). Stamps seen are received into the clock.
 * @param {any} doc
 * @returns {Promise<{added: number, skipped: number}>}
 */
export async function importData(doc) {
  if (!doc || doc.format !== FORMAT || !Array.isArray(doc.entries) || !Array.isArray(doc.outbox)) throw new Error("format");
  // Someone else's entries must neither be read here nor sent under this phone's token.
  const me = await getMeta("person");
  const theirs = doc.meta?.person;
  if (theirs?.id && me?.id && theirs.id !== me.id) throw Object.assign(new Error("person"), { person: theirs });
  const result = await tx(["entries", "outbox", "meta"], "readwrite", async (s) => {
    let added = 0, skipped = 0;
    let n = (await req(s.meta.get("n"))) || 0;
    let clock = await req(s.meta.get("clock"));
    const offset = (await req(s.meta.get("offset"))) || 0;
    const see = (/** @type {string} */ stamp) => {
      try { if (clock) clock = receive(clock, stamp, Date.now() + offset); } catch { /* not a stamp */ }
    };
    for (const c of [...doc.outbox].sort((a, b) => a.n - b.n)) {
      if (!c?.id || (await req(s.outbox.get(c.id)))) { skipped++; continue; }
      s.outbox.put({ ...c, n: ++n });
      see(c.stamp);
      added++;
    }
    for (const e of doc.entries) {
      if (!e?.id) continue;
      const ours = await req(s.entries.get(e.id));
      if (ours && (ours.seq ?? 0) >= (e.seq ?? 0)) { skipped++; continue; }
      s.entries.put(e);
      Object.values(e.stamps || {}).forEach(see);
      added++;
    }
    s.meta.put(n, "n");
    if (clock) s.meta.put(clock, "clock");
    return { added, skipped };
  });
  notify("local-edit", {});
  return result;
}

/** Save the export as a file (the browser's download). */
export async function download() {
  const blob = new Blob([JSON.stringify(await exportData(), null, 1)], { type: "application/json" });
  const a = h("a", { href: URL.createObjectURL(blob), download: `nuanxin-${new Date().toISOString().slice(0, 10)}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(/** @type {HTMLAnchorElement} */ (a).href), 10000);
}

/**
 * This person's phones (GET /api/devices, docs/sync-protocol.md "A person's phones"). A phone
 * enrolled after this one, and not revoked, is announced: a code someone else spent is noticed.
 * @param {HTMLElement} box @param {string|undefined} token
 */
async function showPhones(box, token) {
  /** @type {{id: string, enrolled_at: number, revoked: boolean, this: boolean}[] | null} */
  let devices = null;
  if (token && navigator.onLine) {
    try {
      const res = await fetch("/api/devices", { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
      if (res.ok) devices = (await res.json()).devices;
    } catch { /* offline: say so below */ }
  }
  if (!devices) { box.replaceChildren(h("p", null, t("phones_offline"))); return; }
  const here = devices.find((d) => d.this);
  const newer = devices.filter((d) => !d.revoked && !d.this && here && d.enrolled_at > here.enrolled_at);
  box.replaceChildren(
    ...newer.map((d) => h("p", { class: "rejected-box", role: "alert", "data-test": "new-phone-notice" },
      t("new_phone", { when: fmtDateTime(d.enrolled_at), id: d.id }))),
    h("ul", { "data-test": "phones" }, ...devices.map((d) => h("li", { "data-device-id": d.id },
      `${d.id} · ${fmtDateTime(d.enrolled_at)}`, d.this ? ` · ${t("this_phone")}` : d.revoked ? ` · ${t("phone_revoked")}` : ""))));
}

/** @param {HTMLElement} root @param {import("../app.js").Ctx} ctx */
export function mount(root, ctx) {
  const usage = h("p");
  const message = h("p", { role: "status" });
  const file = /** @type {HTMLInputElement} */ (h("input", { type: "file", accept: "application/json,.json", class: "visually-hidden", id: "import-file", "data-test": "import", onchange: async () => {
    const f = file.files?.[0];
    if (!f) return;
    try {
      const r = await importData(JSON.parse(await f.text()));
      message.textContent = t("imported", { a: r.added, b: r.skipped });
      notify("write", { ok: true });
    } catch (err) {
      const e = /** @type {any} */ (err);
      const unreadable = e instanceof SyntaxError || e?.message === "format";
      if (!e?.person && !unreadable) notify("write", { ok: false, error: e });
      message.textContent = e?.person ? t("import_other", { name: e.person.name || e.person.id })
        : unreadable ? t("import_bad") : t("not_saved");
    }
    file.value = "";
  } }));

  const { person, site, device } = ctx.me;
  const install = h("div");
  const phones = h("div");
  fill(root, 
    h("h1", null, t("me_title")),
    section(person?.name || "",
      h("dl", { class: "facts" },
        h("dt", null, t("site")), h("dd", null, site?.name || site?.id || "—"),
        h("dt", null, t("device")), h("dd", null, device || "—"),
        h("dt", null, t("version")), h("dd", { "data-test": "app-version" }, APP_VERSION)),
      site?.id ? null : noSite(),
      usage),
    install,
    section(t("phones_title"), phones),
    section(t("language"),
      h("button", { type: "button", class: "secondary", "data-test": "lang-switch", lang: getLang() === "en" ? "zh-CN" : "en", onclick: async () => {
        const next = getLang() === "en" ? "zh-CN" : "en";
        setLang(next);
        await setMetas({ lang: next });
        ctx.rerender();
      } }, t("lang_other"))),
    section(t("my_data"),
      h("div", { class: "stack" },
        h("button", { type: "button", class: "secondary", "data-test": "export", onclick: download }, t("export")),
        h("label", { for: "import-file", class: "button secondary" }, t("import")), file,
        message,
        confirmButton(t("re_enrol"), t("confirm_re_enrol"), () => ctx.go("#/enrol"), { "data-test": "re-enrol" }))));

  async function refresh() {
    const panel = installPanel();
    install.replaceChildren(...(panel ? [section(t("install"), panel)] : []));
    const m = await getMetas(["usage"]);
    const month = new Date().toISOString().slice(0, 7);
    usage.textContent = t("data_used", { n: fmtBytes(m.usage?.month === month ? m.usage.bytes : 0) });
    await showPhones(phones, ctx.me.token);
  }
  return { refresh };
}
