// Shared set-up for the driver-model tests: run a scenario text to its end and look at what it did.
import fs from 'node:fs';
import path from 'node:path';
import { loadSession, type Session } from '../../simulator/session';

export function run(yaml: string, file = 'drivers-test.iommu.yaml'): Session {
  const s = loadSession(yaml, file);
  s.runAll();
  return s;
}

/** Result of the step bound with `as: name`. */
export function result(s: Session, as: string): any {
  return s.runs.find(r => r.spec.as === as)?.result;
}

/** Finding codes raised by step `index`. */
export function codesAt(s: Session, index: number): string[] {
  return s.runs[index].findings.map(i => s.kernel.findings[i].code);
}

export function allCodes(s: Session): string[] {
  return [...new Set(s.kernel.findings.map(f => f.code))].sort();
}

export function logged(s: Session, text: string): string[] {
  return s.kernel.dmesg.map(l => l.text).filter(t => t.includes(text));
}

/** Function names defined in an example driver source (examples/drivers/FILE). */
export function definedFunctions(file: string): Set<string> {
  const text = fs.readFileSync(path.resolve(__dirname, '../../examples/drivers', file), 'utf8');
  const out = new Set<string>();
  for (const m of text.matchAll(/^[a-z][\w \t*]*?\b(\w+)\([^;]*?\)\s*\n\{/gm)) out.add(m[1]);
  return out;
}
