// "Did you mean ...?" for misspelt keys, ops, models, presets, enum values and references. Only called
// once an error is certain, so it may build candidate lists freely.

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions ("mpa" -> "map" is 1). */
export function editDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  if (n === 0) return m;
  if (m === 0) return n;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = new Array<number>(m + 1);
  let cur = new Array<number>(m + 1);
  for (let j = 0; j <= m; j++) prev[j] = j;
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m];
}

/**
 * The candidate nearest to `word`, or undefined when none is close enough: at most one edit for short
 * words, about one edit per three characters for longer ones. Case differences alone always match.
 */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    if (c === word) continue;
    const score = c.toLowerCase() === lower ? 0.5 : editDistance(lower, c.toLowerCase());
    const limit = Math.max(1, Math.floor(Math.max(word.length, c.length) / 3));
    if (score <= limit && score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

/** "; did you mean 'platform'?" or "" (formatted with `quote`, e.g. to add a '$'). */
export function didYouMean(word: string, candidates: Iterable<string>, quote = (s: string) => `'${s}'`): string {
  const n = nearest(word, candidates);
  return n === undefined ? '' : `; did you mean ${quote(n)}?`;
}

/** A short "expected one of: a, b, c" list, cut after `max` names. */
export function oneOf(candidates: readonly string[], max = 12): string {
  if (candidates.length === 0) return 'none are defined';
  const shown = candidates.slice(0, max).join(', ');
  return candidates.length > max ? `expected one of: ${shown}, ... (${candidates.length} in all)` : `expected one of: ${shown}`;
}

/** Unknown-name message: with a suggestion when one is close, otherwise with the list of valid names. */
export function unknownName(what: string, word: string, candidates: readonly string[], listWhenNoMatch = true): string {
  const hint = didYouMean(word, candidates);
  if (hint) return `unknown ${what} '${word}'${hint}`;
  return listWhenNoMatch ? `unknown ${what} '${word}'; ${oneOf(candidates)}` : `unknown ${what} '${word}'`;
}
