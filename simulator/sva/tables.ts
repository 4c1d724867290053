// SMMUv3 configuration structures for SVA: the stream table (one STE per stream ID, pointing at a context-
// descriptor table) and the context-descriptor (PASID) tables. Entry 0 of a CD table holds the private
// io_pgtable of the domain (PASID 0 is reserved on Arm); entry N holds the pgd and ASID of the process bound
// with PASID N. Tables live in simulated memory: 64-byte CDs, linear up to 1024 of them, else two levels
// (8-byte L1 descriptors, L2 leaves of 1024 CDs allocated when first used), as arm-smmu-v3 lays them out.
import type { Kernel } from '../kernel';
import type { Domain } from '../iommu/domain';
import type { IommuInstance } from '../iommu/instance';
import { IOMMU_DOMAIN_IDENTITY, isPaging } from '../iommu/domain';
import { allocAsid } from './mm';

export const CD_SIZE = 64;
export const CD_L2_ENTRIES = 1024;

export interface CdEntry {
  pasid: number;
  kind: 'io_pgtable' | 'mm';
  ttb0: number;              // table base the SMMU walks
  asid: number;
  mm?: string;
  domain?: string;
}

export interface CdTable {
  /** seed 004: one table per domain (owner = domain id); mainline: one per master (owner = device name) */
  owner: string;
  ownerKind: 'domain' | 'device';
  iommu: string;
  ssidBits: number;
  base: number;              // linear table, or the L1 table of a two-level one
  twoLevel: boolean;
  leaves: Map<number, number>;
  entries: Map<number, CdEntry>;
}

interface TableState {
  tables: Map<string, CdTable>;
  domainAsid: Map<string, number>;
}

function state(k: Kernel): TableState {
  let s = k.ext.get('sva.tables') as TableState | undefined;
  if (!s) k.ext.set('sva.tables', s = { tables: new Map(), domainAsid: new Map() });
  return s;
}

export function allTables(k: Kernel): CdTable[] {
  return [...state(k).tables.values()];
}

function debug(k: Kernel, dev: string, text: string): void {
  if (k.bus.active) k.emit({ kind: 'printk', level: 'debug', dev, text });
}

export function findTable(k: Kernel, ownerKind: CdTable['ownerKind'], owner: string): CdTable | undefined {
  return state(k).tables.get(`${ownerKind}:${owner}`);
}

/** The CD table of a domain (seed) or master (mainline), created with entry 0 for the domain's io_pgtable. */
export function cdTableFor(k: Kernel, ownerKind: CdTable['ownerKind'], owner: string, inst: IommuInstance, domain: Domain | null): CdTable {
  const key = `${ownerKind}:${owner}`;
  let t = state(k).tables.get(key);
  if (!t) {
    const ssidBits = inst.model.config.pasidBits;
    const twoLevel = ssidBits > 10;
    const bytes = twoLevel ? 8 * 2 ** (ssidBits - 10) : CD_SIZE * 2 ** ssidBits;
    const base = k.tableAllocator(`CD table of ${owner}`).alloc(bytes) ?? 0;
    t = { owner, ownerKind, iommu: inst.name, ssidBits, base, twoLevel, leaves: new Map(), entries: new Map() };
    state(k).tables.set(key, t);
  }
  if (domain) setEntry0(k, t, domain);
  return t;
}

/** Physical address of the CD for `pasid` (allocating the L2 leaf of a two-level table on first use). */
export function cdAddress(k: Kernel, t: CdTable, pasid: number): number {
  if (!t.twoLevel) return t.base + pasid * CD_SIZE;
  const l1 = Math.floor(pasid / CD_L2_ENTRIES);
  let leaf = t.leaves.get(l1);
  if (leaf === undefined) {
    leaf = k.tableAllocator(`CD table of ${t.owner}`).alloc(CD_L2_ENTRIES * CD_SIZE) ?? 0;
    t.leaves.set(l1, leaf);
    debug(k, t.iommu, `CD L1[${l1}] of ${t.owner} @ 0x${(t.base + 8 * l1).toString(16)} -> L2 0x${leaf.toString(16)}`);
  }
  return leaf + (pasid % CD_L2_ENTRIES) * CD_SIZE;
}

function domainAsid(k: Kernel, d: Domain): number {
  const s = state(k);
  let asid = s.domainAsid.get(d.id);
  if (asid === undefined) s.domainAsid.set(d.id, asid = allocAsid(k));
  return asid;
}

/** Entry 0: the non-PASID translations of the domain (its io_pgtable), or nothing for a non-paging domain. */
export function setEntry0(k: Kernel, t: CdTable, d: Domain): void {
  const cur = t.entries.get(0);
  if (!isPaging(d.type) || !d.pgtable) {
    if (cur) t.entries.delete(0);
    return;
  }
  if (cur && cur.domain === d.id) return;
  t.entries.set(0, { pasid: 0, kind: 'io_pgtable', ttb0: d.pgtable.root.paddr, asid: domainAsid(k, d), domain: d.id });
  debug(k, t.iommu, `CD[0] of ${t.owner} @ 0x${cdAddress(k, t, 0).toString(16)}: io_pgtable of ${d.id}, TTB0 0x${d.pgtable.root.paddr.toString(16)}`);
}

export function installCd(k: Kernel, t: CdTable, pasid: number, mm: { name: string; pgd: number; asid: number }): void {
  t.entries.set(pasid, { pasid, kind: 'mm', ttb0: mm.pgd, asid: mm.asid, mm: mm.name });
  debug(k, t.iommu, `CD[${pasid}] of ${t.owner} @ 0x${cdAddress(k, t, pasid).toString(16)}: V=1 ASID ${mm.asid} TTB0 0x${mm.pgd.toString(16)} (process ${mm.name})`);
}

export function clearCd(k: Kernel, t: CdTable, pasid: number): void {
  const e = t.entries.get(pasid);
  if (!e) return;
  t.entries.delete(pasid);
  debug(k, t.iommu, `CD[${pasid}] of ${t.owner}: V=0; CMD_CFGI_CD, CMD_TLBI_NH_ASID ${e.asid}`);
}

export interface SteView { sid: number; dev: string; config: 'abort' | 'bypass' | 's1-translate'; s1_context_ptr: number | null; s1_cd_max: number }

/** One STE per stream of every probed device behind an SMMU with PASID support. */
export function streamTable(k: Kernel, cdTableOf: (devName: string) => CdTable | undefined): SteView[] {
  const out: SteView[] = [];
  for (const dev of k.devices.values()) {
    const inst = dev.iommu;
    if (!inst || inst.model.config.pasidBits === 0 || !dev.probed) continue;
    const d = dev.group?.domain ?? null;
    const table = cdTableOf(dev.name);
    for (const sid of dev.streams) {
      const config = !d ? 'bypass' : d.type === IOMMU_DOMAIN_IDENTITY ? 'bypass' : isPaging(d.type) ? 's1-translate' : 'abort';
      out.push({ sid, dev: dev.name, config, s1_context_ptr: config === 's1-translate' && table ? table.base : null, s1_cd_max: config === 's1-translate' ? inst.model.config.pasidBits : 0 });
    }
  }
  return out.sort((a, b) => a.sid - b.sid);
}
