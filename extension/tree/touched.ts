// What a step touched, read from its report events: the tree reveals it and the address map highlights it.
// Pure (no vscode) so it is unit-tested with the tree model.
import type { Report, ReportEvent, ReportStep } from '../../simulator/report/types';

export interface TouchedItem {
  step: number;
  op: string;
  dev?: string;
  domain?: string;
  /** first IOVA the step mapped, unmapped or accessed (lowercase hex) */
  iova?: string;
  paddr?: string;
  size?: number;
  /** index into report.faults / report.findings of the first one this step raised */
  faultIndex?: number;
  findingIndex?: number;
}

/** Lowercase 0x-hex of a report value (numbers or hex strings); undefined for anything else. */
export function asHex(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return '0x' + v.toString(16);
  if (typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v)) return '0x' + BigInt(v).toString(16);
  return undefined;
}

/** Numeric value of a report address (hex string or number); NaN when it is neither. */
export function addrValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v)) return Number(BigInt(v));
  return NaN;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length ? v : undefined);

export function touchedByStep(report: Report, step: ReportStep): TouchedItem {
  const t: TouchedItem = { step: step.index, op: step.op };
  const events: ReportEvent[] = step.events ?? [];
  for (const e of events) {
    if (e.kind === 'api' && !t.dev) {
      const args = (e.args ?? {}) as Record<string, unknown>;
      // scalar arguments (`probe: xhci`) sit under the key ''
      t.dev = str(args.dev) ?? (step.op === 'probe' || step.op === 'remove' ? str(args['']) : undefined);
    }
    if ((e.kind === 'fault' || e.kind === 'access') && !t.iova) {
      t.dev = str(e.dev) ?? t.dev;
      t.iova = asHex(e.iova);
      if (e.kind === 'access') t.paddr = asHex(e.paddr);
    }
    if (e.kind === 'pte' && (e.op === 'set' || e.op === 'clear') && !t.domain) {
      t.domain = str(e.domain);
      t.iova = asHex(e.iova) ?? t.iova;
      if (e.op === 'set') t.paddr = asHex(e.paddr);
    }
  }
  if (!t.domain && t.dev) {
    const dev = report.devices.find(d => d.name === t.dev);
    if (dev?.domain) t.domain = dev.domain;
  }
  if (t.domain && t.iova) {
    const iova = addrValue(t.iova);
    const m = report.domains.find(d => d.id === t.domain)?.mappings
      .find(m => addrValue(m.iova) <= iova && iova < addrValue(m.iova) + m.size);
    if (m) { t.size = m.size; t.paddr = asHex(m.paddr); }
  }
  const fault = report.faults.findIndex(f => f.step === step.index);
  if (fault >= 0) t.faultIndex = fault;
  const finding = report.findings.findIndex(f => f.step === step.index);
  if (finding >= 0) t.findingIndex = finding;
  return t;
}
