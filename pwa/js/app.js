// @ts-check
/**
 * The phone app: boot, hash routes, the status line on every screen, the update banner.
 * Views live in views/*.js; each `mount(root, ctx, arg)` returns `{refresh?, unmount?}`.
 */
import { bus, getMetas, open } from "./db.js";
import { fmtAgo, getLang, setLang, t } from "./i18n.js";
import { counts, save } from "./outbox.js";
import { fetchConfig, loadConfig } from "./config.js";
import { installPanel } from "./install.js";
import * as sync from "./sync-schedule.js";
import * as enrol from "./views/enrol.js";
import * as fix from "./views/fix.js";
import * as me from "./views/me.js";
import * as shiftEdit from "./views/shift-edit.js";
import * as shifts from "./views/shifts.js";
import * as supplies from "./views/supplies.js";
import * as wellbeing from "./views/wellbeing.js";
import { h, say } from "./ui.js";

/**
 * @typedef {{person: {id: string, name: string, role: string}, site: {id: string, name: string}|null, device: string, token?: string}} Me
 * @typedef {{me: Me, revoked: boolean, go: (hash: string) => void, rerender: () => void, enrolled: () => Promise<void>}} Ctx
 * @typedef {{refresh?: () => Promise<void> | void, unmount?: () => void}} Mounted
 */

/** @type {Record<string, {mount: (root: HTMLElement, ctx: Ctx, arg: string) => Mounted}>} */
const ROUTES = { shifts, shift: shiftEdit, supplies, wellbeing, me, fix, enrol };

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const main = $("view");

/** @type {Ctx} */
const ctx = {
  me: /** @type {Me} */ ({}),
  revoked: false,
  go: (hash) => { if (location.hash === hash) route(); else location.hash = hash; },
  rerender: () => { staticText(); route(); renderStatus(); },
  enrolled: async () => {
    await loadMe();
    await sync.load();
    fetchConfig(ctx.me.token);
    ctx.go("#/shifts");
    sync.syncNow();
    navigator.storage?.persist?.().catch(() => {});
  },
};

/** @type {Mounted} */
let current = {};
let firstRoute = true;

async function loadMe() {
  const m = await getMetas(["token", "person", "site", "device", "revoked", "lang"]);
  // `site` is null for a person enrolled before a site was assigned (views then say so).
  ctx.me = { person: m.person || {}, site: m.site || null, device: m.device || "", token: m.token };
  ctx.revoked = Boolean(m.revoked);
  setLang(m.lang || getLang());
}

async function route() {
  let [name, arg] = location.hash.replace(/^#\/?/, "").split("/");
  if (!ctx.me.token || ctx.revoked) name = "enrol";
  else if (!ROUTES[name]) name = "shifts";
  current.unmount?.();
  main.replaceChildren();
  current = ROUTES[name].mount(main, ctx, decodeURIComponent(arg || ""));
  // Before enrolment there is nothing to sync and no status to show.
  $("tabs").hidden = $("statusbar").hidden = $("sync-now").hidden = name === "enrol";
  screen = name;
  renderInstall();
  const tab = name === "shift" ? "shifts" : name;
  for (const el of document.querySelectorAll("#tabs a")) {
    if (el.getAttribute("data-tab") === tab) el.setAttribute("aria-current", "page");
    else el.removeAttribute("aria-current");
  }
  await current.refresh?.();
  // Move focus to the new screen's heading, so a screen reader hears where it is.
  const h1 = main.querySelector("h1");
  if (h1 && !firstRoute) { h1.tabIndex = -1; h1.focus(); }
  firstRoute = false;
}

/** The last write failed: said until a write succeeds, so "all synced" is never shown then. */
let writeFailed = false;
/** @param {Event} ev */
function onWrite(ev) {
  writeFailed = !(/** @type {CustomEvent} */ (ev).detail.ok);
  $("write-failed").hidden = !writeFailed;
  renderStatus();
}

let statusText = "";
async function renderStatus() {
  const { pending, rejected } = await counts();
  const { phase, lastSync } = sync.status;
  const parts = writeFailed ? [t("not_saved_status")] : [];
  if (phase === "syncing") parts.push(t("syncing"));
  else if (phase === "update") parts.push(t("update_app"));
  else if (!navigator.onLine || phase === "offline") parts.push(t("offline"));
  else if (phase === "error") parts.push(t("sync_failed"));
  if (pending) parts.push(t("pending_n", { n: pending }));
  if (rejected) parts.push(t("rejected_n", { n: rejected }));
  if (!pending && !rejected && phase === "idle" && !writeFailed) parts.push(t("all_synced"));
  const live = parts.join(" · ");
  // Only the state is a live region; the "2 hours ago" part changes quietly.
  if (live !== statusText) $("status").textContent = statusText = live;
  $("last-sync").textContent = lastSync ? t("last_sync", { t: fmtAgo(lastSync, Date.now()) }) : t("never_synced");
  const bar = $("statusbar");
  bar.dataset.phase = phase;
  bar.dataset.pending = String(pending);
  bar.dataset.rejected = String(rejected);
  bar.dataset.writeFailed = String(writeFailed);
  if (phase === "enrol" && !ctx.revoked) {
    await loadMe();
    if (ctx.revoked) route();
  }
}

const LATER = "nuanxin.install";
let screen = "";
/** 添加到主屏幕 as a banner, until installed or put off (the 我的 screen offers it too, always). */
function renderInstall() {
  const el = $("install");
  const show = ctx.me.token && !ctx.revoked && screen !== "enrol" && screen !== "me" && localStorage.getItem(LATER) !== "later";
  const panel = show ? installPanel() : null;
  el.hidden = !panel;
  el.replaceChildren(...(panel ? [panel, h("button", { type: "button", class: "secondary", "data-test": "install-later", onclick: () => {
    localStorage.setItem(LATER, "later");
    renderInstall();
  } }, t("later"))] : []));
}

function staticText() {
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(/** @type {any} */ (el.getAttribute("data-i18n")));
  document.title = t("app");
  $("tabs").setAttribute("aria-label", t("nav_label"));
}

async function refreshNow() {
  await current.refresh?.();
  await renderStatus();
}

/** Debounced re-render of the current view and the status line after data changed. */
let pendingRefresh = 0;
function refreshSoon() {
  if (pendingRefresh) return;
  pendingRefresh = requestAnimationFrame(() => {
    pendingRefresh = 0;
    refreshNow();
  });
}

/** squoosh-style update flow: a new worker waits until the person taps 更新, then we reload. */
async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  // The first worker claiming a page that had none changes nothing; a new version taking over
  // a controlled page reloads it, so page and worker run the same version.
  let controlled = Boolean(navigator.serviceWorker.controller);
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (controlled && !reloading) {
      reloading = true;
      location.reload();
    }
    controlled = true;
  });
  // updateViaCache "none": an update check fetches sw.js and js/version.js past the HTTP cache.
  const reg = await navigator.serviceWorker.register("/sw.js", { scope: "/", updateViaCache: "none" });
  const offer = (/** @type {ServiceWorker} */ worker) => {
    $("update").hidden = false;
    $("update-button").onclick = () => worker.postMessage({ type: "skip-waiting" });
  };
  if (reg.waiting && navigator.serviceWorker.controller) offer(reg.waiting);
  reg.addEventListener("updatefound", () => {
    const worker = reg.installing;
    worker?.addEventListener("statechange", () => {
      if (worker.state === "installed" && navigator.serviceWorker.controller) offer(worker);
    });
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") reg.update().catch(() => {});
  });
  bus.addEventListener("status", () => { if (sync.status.phase === "update") reg.update().catch(() => {}); });
}

/** Without a working IndexedDB nothing could be kept: say so instead of a blank screen. */
function noStore() {
  staticText();
  $("tabs").hidden = $("statusbar").hidden = $("sync-now").hidden = true;
  main.replaceChildren(h("h1", null, t("app")), h("p", { class: "rejected-box", role: "alert", "data-test": "no-store" }, t("no_store")));
}

/** 立即同步 always answers: offline, it says the sync will come by itself. */
function syncButton() {
  if (!navigator.onLine) say(t("offline_sync"));
  sync.syncNow();
}

const ready = (async () => {
  try {
    await open();
  } catch {
    return noStore();
  }
  await loadMe();
  await loadConfig();
  staticText();
  $("sync-now").addEventListener("click", syncButton);
  bus.addEventListener("write", onWrite);
  for (const type of ["data", "local-edit"]) bus.addEventListener(type, refreshSoon);
  bus.addEventListener("install", () => { renderInstall(); refreshSoon(); });
  bus.addEventListener("me", async () => { await loadMe(); ctx.rerender(); });
  bus.addEventListener("status", () => renderStatus());
  for (const type of ["online", "offline"]) addEventListener(type, () => renderStatus());
  setInterval(renderStatus, 30000);
  addEventListener("hashchange", () => route());
  await sync.load();
  await route();
  await renderStatus();
  sync.start();
  fetchConfig(ctx.me.token);
  registerWorker().catch(() => {});
  // Ask the browser not to evict the outbox under storage pressure.
  if (ctx.me.token) navigator.storage?.persist?.().catch(() => {});
})();

/** For end-to-end tests: a sync that resolves once the screen shows its outcome. */
async function syncAndShow() {
  await sync.syncNow();
  await refreshNow();
}
Object.assign(window, { nuanxin: { syncNow: syncAndShow, ready, save } });
