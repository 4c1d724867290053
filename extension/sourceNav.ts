// Pure helpers for "Go to Source": parse a step's `site` and find the function definition in C text.

export interface Site {
  /** path as written (may include directories): drivers/gpu/drm/apu/apu_gem.c */
  file: string;
  /** last path component */
  base: string;
  func?: string;
  line?: number;
}

/** "FILE.c:FUNCTION", "dir/FILE.c:FUNCTION", "FILE.c:LINE" or "FILE.c:FUNCTION:LINE" (.h too); undefined otherwise. */
export function parseSite(site: string): Site | undefined {
  const m = /^\s*([^\s:]+\.[ch]):(?:([A-Za-z_]\w*)(?::([1-9]\d*))?|([1-9]\d*))\s*$/.exec(site);
  if (!m) return undefined;
  const file = m[1];
  const base = file.split('/').pop()!;
  if (m[4]) return { file, base, line: Number(m[4]) };
  return m[3] ? { file, base, func: m[2], line: Number(m[3]) } : { file, base, func: m[2] };
}

/**
 * 0-based line of FUNC's definition: kernel style puts definitions at column 0 (`static int foo(...)` or the
 * name alone after a return-type line) and calls indented; a prototype ends with `;`. Falls back to the first
 * mention of the name, then undefined.
 */
export function findFunctionLine(text: string, func: string): number | undefined {
  const lines = text.split(/\r?\n/);
  const name = new RegExp(`\\b${func}\\s*\\(`);
  let firstMention: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (!name.test(l)) continue;
    firstMention ??= i;
    if (/^[ \t]/.test(l) || /^\s*#/.test(l)) continue;
    if (isPrototype(lines, i)) continue;
    return i;
  }
  return firstMention;
}

/** The declaration starting at line i ends in `;` before any `{` (a prototype, not a definition). */
function isPrototype(lines: string[], i: number): boolean {
  for (let j = i; j < Math.min(lines.length, i + 12); j++) {
    const l = lines[j].replace(/\/\/.*$/, '');
    const brace = l.indexOf('{'), semi = l.indexOf(';');
    if (brace >= 0 && (semi < 0 || brace < semi)) return false;
    if (semi >= 0) return true;
  }
  return false;
}

/** Orders candidate files: the ones whose path ends with the site's path first, then shorter paths. */
export function rankSiteFiles(paths: string[], site: Site): string[] {
  const want = '/' + site.file.replace(/^\/+/, '');
  const score = (p: string) => (('/' + p).endsWith(want) ? 0 : 1);
  return [...paths].sort((a, b) => score(a) - score(b) || a.length - b.length || a.localeCompare(b));
}
