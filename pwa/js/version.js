// The app version: the one source for the page (js/sync-transport.js imports this file) and the service
// worker (sw.js loads it with importScripts). A plain script, valid as a module too, so an old
// iPhone's service worker can load it. Bump it on every release.
self.NUANXIN_VERSION = "0.5.0";
