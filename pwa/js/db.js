// @ts-check
/**
 * A tiny IndexedDB wrapper in the style of idb-keyval: one database, three stores.
 *
 * - `entries`: the server state of each entry (keyPath `id`), replaced on every pull.
 * - `outbox`: pending changes (keyPath `id`), index `n` = insertion order, index `entry`.
 * - `meta`: key/value (device, token, person, site, cursor, clock, offset, lastSync, usage, lang, n).
 */

const NAME = "nuanxin";
const VERSION = 1;

/** Data written: views listen to re-render, sync listens to schedule a push. */
export const bus = new EventTarget();

/** @param {string} type @param {any} [detail] */
export function notify(type, detail) {
  bus.dispatchEvent(new CustomEvent(type, { detail }));
}

/**
 * @template T
 * @param {IDBRequest<T> | IDBTransaction} req
 * @returns {Promise<T>}
 */
export function promisifyRequest(req) {
  return new Promise((resolve, reject) => {
    if ("oncomplete" in req) {
      req.oncomplete = () => resolve(/** @type {any} */ (undefined));
      req.onabort = req.onerror = () => reject(req.error);
    } else {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    }
  });
}

/** @type {Promise<IDBDatabase> | null} */
let opening = null;

/** @returns {Promise<IDBDatabase>} */
export function open() {
  if (!opening) {
    const req = indexedDB.open(NAME, VERSION);
    req.onupgradeneeded = (ev) => {
      const db = req.result;
      // The ladder: each step upgrades from the version before it, so any old phone catches up.
      if (ev.oldVersion < 1) {
        db.createObjectStore("entries", { keyPath: "id" }).createIndex("kind", "kind");
        const outbox = db.createObjectStore("outbox", { keyPath: "id" });
        outbox.createIndex("n", "n");
        outbox.createIndex("entry", "entry");
        db.createObjectStore("meta");
      }
    };
    opening = promisifyRequest(req).then((db) => {
      // Another tab opened a newer version: let it upgrade, we reload with the new app.
      db.onversionchange = () => db.close();
      return db;
    });
  }
  return opening;
}

/**
 * Run `fn` inside one transaction and wait for it to commit. `fn` may only await IndexedDB
 * requests (anything else would let the transaction auto-commit early).
 * @template T
 * @param {string[]} names
 * @param {IDBTransactionMode} mode
 * @param {(stores: Record<string, IDBObjectStore>) => Promise<T> | T} fn
 * @returns {Promise<T>}
 */
export async function tx(names, mode, fn) {
  const db = await open();
  const t = db.transaction(names, mode);
  const done = promisifyRequest(t);
  /** @type {Record<string, IDBObjectStore>} */
  const stores = {};
  for (const n of names) stores[n] = t.objectStore(n);
  try {
    const result = await fn(stores);
    await done;
    return result;
  } catch (err) {
    try { t.abort(); } catch { /* already finished */ }
    done.catch(() => {}); // the abort is reported as `err`, not again as an unhandled rejection
    throw err;
  }
}

/** @param {string} store @returns {Promise<any[]>} */
export function getAll(store) {
  return tx([store], "readonly", (s) => promisifyRequest(s[store].getAll()));
}

/** @param {string} key @returns {Promise<any>} */
export function getMeta(key) {
  return tx(["meta"], "readonly", (s) => promisifyRequest(s.meta.get(key)));
}

/** @param {string[]} keys @returns {Promise<Record<string, any>>} */
export function getMetas(keys) {
  return tx(["meta"], "readonly", async (s) => {
    /** @type {Record<string, any>} */
    const out = {};
    for (const k of keys) out[k] = await promisifyRequest(s.meta.get(k));
    return out;
  });
}

/** @param {Record<string, any>} values */
export function setMetas(values) {
  return tx(["meta"], "readwrite", (s) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) s.meta.delete(k);
      else s.meta.put(v, k);
    }
  });
}

/** Outbox records in insertion order. @returns {Promise<any[]>} */
export function outboxInOrder() {
  return tx(["outbox"], "readonly", (s) => promisifyRequest(s.outbox.index("n").getAll()));
}
