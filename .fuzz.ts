import { parseFastYaml, FastYamlUnsupported } from './simulator/scenario/fast-yaml';
import { parseWithYamlPackage } from './simulator/scenario/yaml-tree';
import { readFileSync, readdirSync } from 'node:fs';
import assert from 'node:assert/strict';
const seeds = readdirSync('examples').filter(f => f.endsWith('.yaml')).map(f => readFileSync('examples/' + f, 'utf8'));
seeds.push('{"a": [1, 2, {"b": "x\\u0041"}], "c": null}\n', "k: 'it''s'\nl: [a, b]\nm: {x: 1}\n- bad\n", 'a:\n- 1\n- - 2\nb: "q"\n');
const pieces = [' ', '\n', '  ', '-', ':', ': ', '#', ' #', '{', '}', '[', ']', ',', '"', "'", '\\', 'a', 'x: y', '- z', '\n  ', '\n    ', '&a', '*a', '!', '|', '>', '?', '---', '\t', '\r\n', 'null', '~', '\\n', '\\u00e9', "''", 'é'];
let rng = Number(process.argv[2] ?? 1);
const rand = (n: number) => { rng = (rng * 1103515245 + 12345) % 2147483648; return rng % n; };
let accepted = 0, agree = 0, bad = 0;
for (let iter = 0; iter < Number(process.argv[3] ?? 20000); iter++) {
  let t = seeds[rand(seeds.length)];
  const muts = 1 + rand(4);
  for (let m = 0; m < muts; m++) {
    const at = rand(t.length + 1);
    const op = rand(3);
    if (op === 0) t = t.slice(0, at) + pieces[rand(pieces.length)] + t.slice(at);
    else if (op === 1) t = t.slice(0, at) + t.slice(at + 1 + rand(3));
    else t = t.slice(0, at) + pieces[rand(pieces.length)] + t.slice(at + 1);
  }
  let fast: any, fe: any, slow: any, se: any;
  try { fast = parseFastYaml(t, 'f'); } catch (e) { fe = e; }
  if (fe instanceof FastYamlUnsupported) continue;
  accepted++;
  try { slow = parseWithYamlPackage(t, 'f'); } catch (e) { se = e; }
  if (fe || se) {
    if (fe && se && fe.message === se.message) { agree++; continue; }
    if (fe && se && fe.message.startsWith('duplicate key') && se.message.startsWith('duplicate key')) { agree++; continue; }
    bad++; if (bad < 4) console.log('MISMATCH-ERR', JSON.stringify(t), '\n fast:', fe?.message, '\n yaml:', se?.message); continue;
  }
  try { assert.deepEqual(JSON.parse(JSON.stringify(fast)), JSON.parse(JSON.stringify(slow))); agree++; }
  catch (e: any) { bad++; if (bad < 4) console.log('MISMATCH-TREE', JSON.stringify(t), e.message.slice(0, 800)); }
}
console.log({ accepted, agree, bad });
