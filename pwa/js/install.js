// @ts-check
/**
 * 添加到主屏幕: keep the browser's install prompt (Chromium fires `beforeinstallprompt`) for a
 * button, or, in Safari on an iPhone, which has no prompt, say how to do it by hand.
 */
import { notify } from "./db.js";
import { t } from "./i18n.js";
import { h } from "./ui.js";

/** @type {any} */
let deferred = null;

addEventListener("beforeinstallprompt", (ev) => {
  ev.preventDefault(); // no mini-infobar: the person taps our button when they want to
  deferred = ev;
  notify("install");
});
addEventListener("appinstalled", () => {
  deferred = null;
  notify("install");
});

/** The browser can install the app now. */
export const canPrompt = () => Boolean(deferred);

/** Safari on an iPhone or iPad, not yet opened from the home screen. */
export function iosHint(ua = navigator.userAgent) {
  const standalone = /** @type {any} */ (navigator).standalone === true || matchMedia("(display-mode: standalone)").matches;
  return !standalone && /iPhone|iPad|iPod/.test(ua);
}

export async function prompt() {
  const ev = deferred;
  if (!ev) return;
  deferred = null;
  ev.prompt();
  await ev.userChoice.catch(() => null);
  notify("install");
}

/** The button, or the iPhone instruction, or null when there is nothing to offer. */
export function installPanel() {
  if (canPrompt()) {
    return h("div", { class: "stack" }, h("p", null, t("install_why")),
      h("button", { type: "button", class: "primary", "data-test": "install", onclick: prompt }, t("install")));
  }
  return iosHint() ? h("p", { "data-test": "install-ios" }, t("install_ios")) : null;
}
