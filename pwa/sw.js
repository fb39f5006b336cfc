// @ts-check
/// <reference lib="webworker" />
/**
 * Service worker: a versioned app shell, served cache-first; navigations to the app answered
 * offline from the cached index.html; /api/ never cached. A new version installs and waits
 * until the page says "skip-waiting" (the person tapped 更新), so the outbox is never touched.
 */
const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

// The version lives in js/version.js, shared with the page (js/sync-transport.js), so the two cannot drift.
importScripts("/js/version.js");
const VERSION = /** @type {any} */ (sw).NUANXIN_VERSION;
const CACHE = `nuanxin-shell-${VERSION}`;
const SHELL = [
  "/",
  "/manifest.webmanifest",
  "/css/app.css",
  "/js/app.js",
  "/js/clock.js",
  "/js/config.js",
  "/js/constants.js",
  "/js/days.js",
  "/js/db.js",
  "/js/i18n.js",
  "/js/install.js",
  "/js/ledger.js",
  "/js/merge.js",
  "/js/outbox.js",
  "/js/rest.js",
  "/js/sms.js",
  "/js/sms-offer.js",
  "/js/subsidy.js",
  "/js/sync-apply.js",
  "/js/sync-schedule.js",
  "/js/sync-transport.js",
  "/js/ui.js",
  "/js/version.js",
  "/js/views/enrol.js",
  "/js/views/fix.js",
  "/js/views/me.js",
  "/js/views/shift-edit.js",
  "/js/views/shifts.js",
  "/js/views/supplies.js",
  "/js/views/wellbeing.js",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/icons/icon-maskable-512.png",
];

sw.addEventListener("install", (event) => {
  // `reload` skips the HTTP cache, so a new version never precaches an old file.
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL.map((u) => new Request(u, { cache: "reload" })))));
});

sw.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    await sw.clients.claim();
  })());
});

sw.addEventListener("message", (event) => {
  if (event.data?.type === "skip-waiting") sw.skipWaiting();
});

/** Cache first, network if missing (and not stored: the shell is fixed per version). */
async function cacheOrNetwork(/** @type {Request | string} */ request) {
  const cache = await caches.open(CACHE);
  return (await cache.match(request, { ignoreSearch: true })) || fetch(request);
}

sw.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  // Only the app's own page: other server pages (the township dashboard) go to the network.
  if (request.mode === "navigate") {
    if (url.pathname === "/" || url.pathname === "/index.html") event.respondWith(cacheOrNetwork("/"));
    return;
  }
  if (SHELL.includes(url.pathname)) event.respondWith(cacheOrNetwork(request));
});

// Background Sync: the browser wakes us when the network is back; the open page does the work.
sw.addEventListener("sync", (/** @type {any} */ event) => {
  if (event.tag !== "outbox") return;
  event.waitUntil(sw.clients.matchAll({ type: "window", includeUncontrolled: true })
    .then((list) => list.forEach((c) => c.postMessage({ type: "sync" }))));
});
