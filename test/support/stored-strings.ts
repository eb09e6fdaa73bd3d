/**
 * A script expression, for any engine's page: every string in every IndexedDB database,
 * store and record of the page's origin (keys too), with ArrayBuffers and typed arrays
 * decoded as UTF-8, joined by newlines: what someone with the profile could read. Plain
 * JavaScript in a string, so that Playwright, puppeteer and WebDriver all run it as it is.
 */
export const STORED_STRINGS = `(async () => {
  const found = [];
  const walk = (value, seen) => {
    if (typeof value === 'string') found.push(value);
    else if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) found.push(new TextDecoder().decode(value));
    else if (value && typeof value === 'object' && !seen.has(value)) {
      seen.add(value);
      for (const [key, inner] of Object.entries(value)) {
        found.push(key);
        walk(inner, seen);
      }
    }
  };
  for (const { name } of await indexedDB.databases()) {
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open(name);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    for (const store of db.objectStoreNames) {
      const all = db.transaction(store).objectStore(store).getAll();
      walk(await new Promise((resolve) => (all.onsuccess = () => resolve(all.result))), new Set());
    }
    db.close();
  }
  return found.join('\\n');
})()`;
