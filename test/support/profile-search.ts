import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The files under `dir` holding any of `needles`, as `needle in path`: each needle is
 * looked for as one-byte text (UTF-8 and Latin-1 agree on ASCII, and Blink and V8 keep
 * such strings so) and as UTF-16LE (the two-byte strings of V8 and SpiderMonkey).
 */
export async function filesContaining(dir: string, needles: string[]): Promise<string[]> {
  const patterns = needles.flatMap((needle) => [Buffer.from(needle, 'latin1'), Buffer.from(needle, 'utf16le')].map((bytes) => ({ needle, bytes })));
  const found: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const content = await readFile(path).catch(() => undefined); // a lock file may vanish meanwhile
    if (!content) continue;
    for (const { needle, bytes } of patterns) if (content.includes(bytes)) found.push(`${needle} in ${path.slice(dir.length + 1)}`);
  }
  return [...new Set(found)];
}
