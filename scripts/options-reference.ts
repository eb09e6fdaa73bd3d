/**
 * Writes the options table of docs/guide/options.md from the one place options are
 * documented: the JSDoc of `OutboxOptions` in sw/options.ts, each with its `@default`.
 * `--check` only compares, and fails when the guide is out of date (npm test runs it), so
 * the reference cannot drift from the code. Why not TypeDoc: decision 0028.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import ts from 'typescript';

const SOURCE = new URL('../sw/options.ts', import.meta.url);
const GUIDE = new URL('../docs/guide/options.md', import.meta.url);
const START = '<!-- options table: generated from sw/options.ts by `npm run docs:options`; edit the JSDoc there -->';
const END = '<!-- end of the options table -->';

/** One option as its JSDoc documents it: its full name, its `@default`, and what it does. */
export interface DocumentedOption {
  name: string;
  fallback: string;
  doc: string;
}

/**
 * Every option in the order the interface declares them; a group's members (an option
 * whose type is another interface of the file, such as RetryOptions) as `group.member`,
 * each with its own comment.
 */
export function documentedOptions(code: string): DocumentedOption[] {
  const file = ts.createSourceFile('options.ts', code, ts.ScriptTarget.Latest, true);
  const interfaces = new Map(file.statements.filter(ts.isInterfaceDeclaration).map((node) => [node.name.text, node]));
  const options = interfaces.get('OutboxOptions');
  if (!options) throw new Error('sw/options.ts has no interface OutboxOptions');
  const members = (declaration: ts.InterfaceDeclaration, prefix: string): DocumentedOption[] =>
    declaration.members.filter(ts.isPropertySignature).flatMap((member) => {
      const name = `${prefix}${member.name.getText(file)}`;
      const group = member.type && ts.isTypeReferenceNode(member.type) ? interfaces.get(member.type.typeName.getText(file)) : undefined;
      if (group) return members(group, `${name}.`);
      const doc = ts.getJSDocCommentsAndTags(member).find(ts.isJSDoc);
      const fallback = doc?.tags?.find((tag) => tag.tagName.text === 'default');
      if (!doc?.comment || !fallback) throw new Error(`sw/options.ts: option "${name}" needs a JSDoc comment with a @default`);
      return [{ name, fallback: text(ts.getTextOfJSDocComment(fallback.comment)), doc: text(ts.getTextOfJSDocComment(doc.comment)) }];
    });
  return members(options, '');
}

/** The options table: one row per option. */
export function optionsTable(code: string): string {
  const rows = documentedOptions(code).map(({ name, fallback, doc }) => `| \`${name}\` | ${cell(fallback)} | ${cell(doc)} |`);
  return ['| option | default | what it does |', '| --- | --- | --- |', ...rows].join('\n');
}

/** The renamed options of 0.1 and 0.2, each with its name now: they still work, and say so once. */
export function aliasesTable(aliases: Record<string, string>): string {
  return ['| was | now |', '| --- | --- |', ...Object.entries(aliases).map(([was, now]) => `| \`${was}\` | \`${now}\` |`)].join('\n');
}

function text(comment: string | undefined): string {
  return (comment ?? '').replace(/\s+/g, ' ').trim();
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The guide with its table replaced by `table`. */
export function withTable(guide: string, table: string): string {
  const start = guide.indexOf(START);
  const end = guide.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/guide/options.md lacks the markers around its table:\n${START}\n${END}`);
  return `${guide.slice(0, start + START.length)}\n\n${table}\n\n${guide.slice(end)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const guide = readFileSync(GUIDE, 'utf8');
  const { ALIASES } = await import('../sw/option-names.js');
  const updated = withTable(guide, `${optionsTable(readFileSync(SOURCE, 'utf8'))}\n\nRenamed in this release; the old names still work, each saying once in the console what it is now:\n\n${aliasesTable(ALIASES)}`);
  if (process.argv.includes('--check')) {
    if (updated !== guide) {
      console.error('docs/guide/options.md is out of date with the JSDoc of sw/options.ts: run npm run docs:options, and commit the guide.');
      process.exit(1);
    }
    console.log('docs/guide/options.md matches sw/options.ts');
  } else {
    writeFileSync(GUIDE, updated);
    console.log('wrote the options table of docs/guide/options.md');
  }
}
