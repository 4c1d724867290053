// Webview and workspace safety: the address map's page runs nothing but our nonce'd bundle and loads nothing
// remote; every webview message is validated; untrusted and virtual workspaces are declared; the extension
// writes to disk only through the export command's atomic write, and edits documents only through a quick fix
// the user picks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { contentSecurityPolicy, makeNonce, webviewHtml } from '../../extension/map/html';
import { validateWebviewMessage } from '../../webview/protocol';

const ROOT = path.resolve(__dirname, '../..');
const CSP_SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';

function render(nonce = makeNonce()): string {
  return webviewHtml({ cspSource: CSP_SOURCE, scriptUri: `${CSP_SOURCE}/dist/webview.js`, styleUri: `${CSP_SOURCE}/dist/webview.css`, nonce, title: 'IOMMU Address Map' });
}

function cspOf(html: string): Map<string, string[]> {
  const m = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
  assert.ok(m, 'the page has a CSP meta tag');
  const directives = new Map<string, string[]>();
  for (const d of m[1].replace(/&#39;|&apos;/g, "'").split(';').map(s => s.trim()).filter(Boolean)) {
    const [name, ...values] = d.split(/\s+/);
    directives.set(name, values);
  }
  return directives;
}

test('the CSP allows nothing by default, no inline code, no eval, scripts only with the nonce', () => {
  const nonce = makeNonce();
  const html = render(nonce);
  const csp = cspOf(html);
  assert.deepEqual(csp.get('default-src'), ["'none'"]);
  assert.deepEqual(csp.get('script-src'), [`'nonce-${nonce}'`]);
  for (const [name, values] of csp) {
    for (const v of values) {
      assert.ok(!/unsafe-inline|unsafe-eval|unsafe-hashes|strict-dynamic|wasm-unsafe-eval/.test(v), `${name} allows ${v}`);
      assert.ok(v !== '*' && !/^(https?:|data:|blob:)$/.test(v) || (v === 'data:' && name === 'img-src'), `${name} allows ${v}`);
      assert.ok(!/^https?:\/\//.test(v) || v === CSP_SOURCE, `${name} allows the remote origin ${v}`);
    }
  }
  assert.deepEqual(csp.get('base-uri'), ["'none'"]);
  assert.deepEqual(csp.get('form-action'), ["'none'"]);
  assert.ok(!csp.has('connect-src') && !csp.has('frame-src'), 'no fetches or frames');
  assert.equal(contentSecurityPolicy(CSP_SOURCE, nonce), [...csp].map(([k, v]) => [k, ...v].join(' ')).join('; '));
});

test('every script carries the nonce and is our bundle; no inline script, handler, style or remote URL', () => {
  const nonce = makeNonce();
  const html = render(nonce);
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
  assert.equal(scripts.length, 1);
  for (const [, attrs, body] of scripts) {
    assert.match(attrs, new RegExp(`\\bnonce="${nonce.replace(/[+/=]/g, c => `\\${c}`)}"`));
    assert.match(attrs, /\bsrc="[^"]+\/dist\/webview\.js"/);
    assert.equal(body.trim(), '', 'no inline script');
  }
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i, 'inline event handler');
  assert.doesNotMatch(html, /\sstyle\s*=/i, 'inline style');
  assert.doesNotMatch(html, /javascript:/i);
  assert.doesNotMatch(html, /<(iframe|object|embed|form|base)\b/i);
  const urls = [...html.matchAll(/\b(?:https?:)?\/\/[^\s"'<>;]+/g)].map(m => m[0]);
  for (const u of urls) assert.ok(u.startsWith(CSP_SOURCE), `remote URL ${u}`);
});

test('a fresh 128-bit nonce for every render', () => {
  const nonces = new Set(Array.from({ length: 200 }, () => makeNonce()));
  assert.equal(nonces.size, 200);
  for (const n of nonces) assert.equal(Buffer.from(n, 'base64').length, 16);
  const a = cspOf(render()).get('script-src');
  const b = cspOf(render()).get('script-src');
  assert.notDeepEqual(a, b, 'two renders, two nonces');
  // the panel makes one per HTML it sets
  const panel = fs.readFileSync(path.join(ROOT, 'extension/map/mapPanel.ts'), 'utf8');
  assert.match(panel, /webview\.html = webviewHtml\(\{[\s\S]*?nonce: makeNonce\(\)/);
});

test('the webview bundle sources use no eval, no HTML injection, nothing remote', () => {
  const dir = path.join(ROOT, 'webview');
  for (const f of fs.readdirSync(dir, { recursive: true }).map(String).filter(f => f.endsWith('.ts'))) {
    const code = fs.readFileSync(path.join(dir, f), 'utf8').replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    assert.doesNotMatch(code, /\beval\s*\(|new Function\s*\(|\.innerHTML\s*=|outerHTML\s*=|insertAdjacentHTML|document\.write/, `webview/${f}`);
    assert.doesNotMatch(code, /['"`]https?:\/\//, `webview/${f} names a remote URL`);
    assert.doesNotMatch(code, /\bfetch\s*\(|XMLHttpRequest|WebSocket|importScripts/, `webview/${f} reaches the network`);
  }
});

test('malformed and hostile webview messages are rejected with the field named; the panel validates and logs them', () => {
  const cyclic: Record<string, unknown> = { type: 'ready' };
  cyclic.state = cyclic;
  const bad: Array<[unknown, RegExp]> = [
    [undefined, /^message: expected an object, got undefined$/],
    ['reveal', /^message: expected an object/],
    [[{ type: 'ready' }], /^message: expected an object/],
    [{}, /^message\.type: expected ready \| selectDomain/],
    [JSON.parse('{"type":"selectDomain","domainId":"d1","__proto__":{"admin":true}}'), /^selectDomain\.__proto__: expected no such field/],
    [{ type: 'selectDomain', domainId: 'd1; rm -rf ~' }, /^selectDomain\.domainId: expected an identifier/],
    [{ type: 'selectDomain', domainId: 'x'.repeat(129) }, /^selectDomain\.domainId: expected an identifier/],
    [{ type: 'goToSource', site: 'file:///etc/passwd:1' }, /^goToSource\.site: expected "FILE\.c:FUNCTION"/],
    [{ type: 'goToSource', site: 'a.c:f\nb.c:g' }, /^goToSource\.site: expected/],
    [{ type: 'goToSource', site: 'x'.repeat(5000) }, /^goToSource\.site: expected a string/],
    [{ type: 'goToSource', site: { toString: 'a.c:f' } }, /^goToSource\.site: expected a string/],
    [{ type: 'requestWalk', domainId: 'd1', iova: 1.5 }, /^requestWalk\.iova: expected an address/],
    [{ type: 'requestWalk', domainId: 'd1', iova: 10n }, /^requestWalk\.iova: expected an address .*got "10n"/],
    [{ type: 'requestWalk', domainId: 'd1', iova: NaN }, /^requestWalk\.iova/],
    [{ type: 'reveal', target: { kind: 'mapping', domain: 'd1', size: Infinity } }, /^reveal\.target\.size/],
    [{ type: 'reveal', target: { kind: 'mapping', domain: 'd1', iova: '0x' + 'f'.repeat(15) } }, /^reveal\.target\.iova: expected a lowercase hex address/],
    [{ type: 'stateChanged', state: { domainId: null, iova: null, phys: null, colorBy: 'buffer', walkAddress: 5 } }, /^stateChanged\.state\.walkAddress: expected a string/],
    [cyclic, /^ready\.state(\.\w+)?: expected/],
  ];
  for (const [m, re] of bad) {
    const r = validateWebviewMessage(m);
    assert.ok('error' in r, `accepted ${String(m)}`);
    assert.match(r.error, re);
    assert.ok(!r.error.includes('\n') && r.error.length < 300);
  }
  const panel = fs.readFileSync(path.join(ROOT, 'extension/map/mapPanel.ts'), 'utf8');
  const receive = /async receive\(raw: unknown\)[\s\S]*?\n {2}\}/.exec(panel)?.[0] ?? '';
  assert.match(receive, /const m = validateWebviewMessage\(raw\);/, 'every message goes through the validator first');
  assert.match(receive, /rejected a message from the webview/, 'a rejected message is logged');
  assert.match(panel, /onDidReceiveMessage\(m => void this\.receive\(m\)\)/);
});

test('package.json declares untrusted-workspace support and virtual workspaces; nothing in a workspace is executed', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const untrusted = pkg.capabilities?.untrustedWorkspaces;
  assert.ok(untrusted?.supported === true || (untrusted?.supported === 'limited' && typeof untrusted.description === 'string'), JSON.stringify(untrusted));
  assert.ok(pkg.capabilities?.virtualWorkspaces === true || pkg.capabilities?.virtualWorkspaces?.supported !== false);
  // no tasks, debuggers or terminals that would run workspace content
  for (const point of ['taskDefinitions', 'debuggers', 'terminal']) assert.ok(!pkg.contributes?.[point], `contributes ${point}`);
  for (const f of sources('extension')) {
    const code = fs.readFileSync(f, 'utf8');
    assert.doesNotMatch(code, /child_process|\bexecSync\b|\bspawn\(|createTerminal|ShellExecution|ProcessExecution|\bvm\.run|new Function\(|\beval\(/,
      `${path.relative(ROOT, f)} could run something`);
  }
});

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { recursive: true }).map(String).filter(f => f.endsWith('.ts')).map(f => path.join(ROOT, dir, f));
}

test('the extension writes files only through the export command, atomically, and edits text only through a picked quick fix', () => {
  const writers: string[] = [];
  for (const f of sources('extension')) {
    const code = fs.readFileSync(f, 'utf8');
    const rel = path.relative(ROOT, f);
    for (const m of code.matchAll(/\b(fs\.(?:promises\.)?(?:write\w*|append\w*|rename\w*|copy\w*|rm\w*|unlink\w*|mkdir\w*|truncate\w*|create\w*Stream)|workspace\.fs\.(?:writeFile|rename|delete|copy|createDirectory)|applyEdit|\.save\(\)|saveAll|writeFileSync|writeFile\b)/g)) {
      writers.push(`${rel}: ${m[1]}`);
    }
  }
  assert.deepEqual(writers.sort(), [
    'extension/annotations/quickFixes.ts: applyEdit',
    'extension/exportReport.ts: workspace.fs.delete',
    'extension/exportReport.ts: workspace.fs.rename',
    'extension/exportReport.ts: workspace.fs.writeFile',
  ]);
  const exp = fs.readFileSync(path.join(ROOT, 'extension/exportReport.ts'), 'utf8');
  const atomic = /export async function writeFileAtomic[\s\S]*?\n\}/.exec(exp)?.[0] ?? '';
  assert.match(atomic, /workspace\.fs\.writeFile\(tmp, bytes\)[\s\S]*workspace\.fs\.rename\(tmp, uri, \{ overwrite: true \}\)/, 'temporary file, then rename');
  assert.match(atomic, /catch[\s\S]*workspace\.fs\.delete\(tmp\)/, 'the temporary file is removed on failure');
  assert.equal((exp.match(/workspace\.fs\.(writeFile|rename|delete)\(/g) ?? []).length, 3, 'every file write of exportReport.ts is in writeFileAtomic');
  // the quick fix is a command the user picks, and refuses when the text moved on
  const qf = fs.readFileSync(path.join(ROOT, 'extension/annotations/quickFixes.ts'), 'utf8');
  assert.match(qf, /if \(doc\.getText\(range\) !== expected\)[\s\S]*return false;[\s\S]*applyEdit\(edit\)/);
});
