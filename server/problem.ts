/** A reply the server sends: what a handler returns, and what the module stores. */
export interface Reply {
  status: number;
  /** Header names in lower case. Transport headers (Connection, Date) are the server's business. */
  headers: Record<string, string>;
  /** Text (JSON, mostly), or bytes as a framework sent them. */
  body: string | Uint8Array;
}

/** A JSON reply. */
export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

/** A problem+json reply as a small HTML page, for a person reading it in a browser. */
export function htmlProblem(reply: Reply): Reply {
  const { title, detail } = JSON.parse(String(reply.body)) as { title: string; detail: string };
  const escape = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
  const body = `<!doctype html><html lang="en"><meta charset="utf-8"><title>${escape(title)}</title><h1>${escape(title)}</h1><p>${escape(detail)}</p>`;
  return { status: reply.status, headers: { ...reply.headers, 'content-type': 'text/html; charset=utf-8' }, body };
}

/**
 * An RFC 9457 problem+json reply: `title` says what went wrong, `detail` how to fix it,
 * `type` (a URI) what kind of problem it is, for clients that branch on it.
 */
export function problem(status: number, title: string, detail: string, headers: Record<string, string> = {}, type = 'about:blank'): Reply {
  return {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    body: JSON.stringify({ type, title, status, detail }),
  };
}
