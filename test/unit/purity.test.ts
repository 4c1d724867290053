// simulator/ is pure TypeScript: no vscode, no DOM. The CLI and tests run it under plain Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../../simulator');
const files = fs.readdirSync(root, { recursive: true }).map(String).filter(f => f.endsWith('.ts'));

test('no file under simulator/ imports vscode or touches the DOM', () => {
  assert.ok(files.length > 20);
  const offenders: string[] = [];
  for (const f of files) {
    const text = fs.readFileSync(path.join(root, f), 'utf8');
    if (/from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\)/.test(text)) offenders.push(`${f}: imports vscode`);
    const code = text.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    if (/(?<![.\w])(document|window|navigator|localStorage)\s*[.[]|\bHTML\w*Element\b|\bacquireVsCodeApi\b/.test(code)) offenders.push(`${f}: uses the DOM`);
  }
  assert.deepEqual(offenders, []);
});
