// The "IOMMUs" tree as plain nodes built from a Report: IOMMUs -> groups -> devices -> domain -> mappings,
// with the device's DMA buffers and SVA bonds, then CPU buffers and IOVA allocators. Pure: no vscode.
import { hex, sizeLabel } from '../../simulator/core/format';
import type {
  Report, ReportBuffer, ReportDevice, ReportDomain, ReportGroup, ReportIommu, ReportMapping,
} from '../../simulator/report/types';
import {
  code, md, mdTable, pgsizeText, protFlags, protShort, rangeLabel, tags, TreeNode, findNode,
} from './node';
import { addrValue, TouchedItem } from './touched';

export * from './node';
export { buildFindingsTree, findingsNodeForTouched } from './findingsModel';
export { statusSummary } from './summary';

/** Above this many mappings a domain lists the first ones and points at the address map for the rest. */
export const MAX_MAPPING_NODES = 500;

export function buildIommuTree(report: Report): TreeNode[] {
  const ctx = new TreeContext(report);
  const roots: TreeNode[] = ctx.iommuNames().map(name => ctx.iommuNode(name));
  const direct = report.devices.filter(d => !ctx.iommuOfDevice(d));
  if (direct.length) {
    roots.push(folder('no-iommu', 'No IOMMU', `${direct.length} device${direct.length === 1 ? '' : 's'}, direct DMA`,
      'debug-disconnect', direct.map(d => ctx.deviceNode(d)),
      'Devices with no IOMMU in front of them: DMA addresses are physical (dma-direct, swiotlb if needed).'));
  }
  if (report.buffers?.length) {
    roots.push(folder('buffers', 'CPU buffers', `${report.buffers.length}`, 'database',
      report.buffers.map(b => ctx.bufferNode(b, 'buffers')), 'Memory the scenario allocated: kmalloc, pages, coherent, GEM ...', false));
  }
  if (report.iovads?.length) {
    roots.push(folder('iovads', 'IOVA allocators', `${report.iovads.length}`, 'symbol-numeric',
      report.iovads.map(v => ctx.iovadNode(v)), 'struct iova_domain instances (drivers/iommu/iova.c)'));
  }
  return roots;
}

/** The node to reveal for what the last step touched: its mapping, else its domain, else its device. */
export function iommuNodeForTouched(roots: TreeNode[], t: TouchedItem): TreeNode | undefined {
  const iova = t.iova !== undefined ? addrValue(t.iova) : NaN;
  const domain = t.domain;
  if (domain !== undefined && Number.isFinite(iova)) {
    const m = findNode(roots, ({ kind, ref }) => kind === 'mapping' && ref !== undefined && ref.domain === domain
      && addrValue(ref.iova) <= iova && iova < addrValue(ref.iova) + (ref.size ?? 0));
    if (m) return m;
  }
  if (domain !== undefined) {
    const d = findNode(roots, ({ kind, ref }) => kind === 'domain' && ref?.domain === domain && (!t.dev || ref?.dev === t.dev))
      ?? findNode(roots, ({ kind, ref }) => kind === 'domain' && ref?.domain === domain);
    if (d) return d;
  }
  return t.dev ? findNode(roots, n => n.kind === 'device' && n.ref?.dev === t.dev) : undefined;
}

function folder(id: string, label: string, description: string, icon: string, children: TreeNode[],
  tooltip?: string, expanded = true): TreeNode {
  return { id, kind: 'folder', label, description, icon, contextValue: 'folder', children, expanded, tooltip };
}

class TreeContext {
  /** per domain: the leaf PTEs each step wrote, to name the step (and its site) that made a mapping */
  private readonly writers = new Map<string, Array<{ iova: number; size: number; step: number }>>();

  constructor(private readonly r: Report) {
    for (const s of r.steps) {
      for (const e of s.events ?? []) {
        if (e.kind !== 'pte' || e.op !== 'set' || typeof e.domain !== 'string') continue;
        const list = this.writers.get(e.domain) ?? [];
        list.push({ iova: addrValue(e.iova), size: Number(e.size), step: s.index });
        this.writers.set(e.domain, list);
      }
    }
  }

  /** The last step that wrote a leaf PTE inside [iova, iova+size) of DOMAIN. */
  private writerOf(domain: string, iova: number, size: number): number | undefined {
    const list = this.writers.get(domain);
    if (!list) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const w = list[i];
      if (w.iova < iova + size && iova < w.iova + w.size) return w.step;
    }
    return undefined;
  }

  iommuNames(): string[] {
    const names = new Set<string>((this.r.platform?.iommus ?? []).map(i => i.name));
    for (const g of this.r.groups) names.add(g.iommu);
    for (const d of this.r.domains) names.add(d.iommu);
    for (const d of this.r.devices) { const i = this.iommuOfDevice(d); if (i) names.add(i); }
    return [...names];
  }

  iommuOfDevice(d: ReportDevice): string | null {
    if (d.iommu !== undefined) return d.iommu;
    return this.r.groups.find(g => g.id === d.group)?.iommu ?? null;
  }

  iommuNode(name: string): TreeNode {
    const info: ReportIommu | undefined = this.r.platform?.iommus.find(i => i.name === name);
    const id = `iommu:${name}`;
    const groups = this.r.groups.filter(g => g.iommu === name);
    const children = groups.map(g => this.groupNode(g));
    const unprobed = this.r.devices.filter(d => d.group === null && this.iommuOfDevice(d) === name);
    children.push(...unprobed.map(d => this.deviceNode(d)));
    // SVA domains hang off their PASID bond, not off a device's current domain
    const attached = new Set([...this.r.devices.map(d => d.domain), ...(this.r.sva ?? []).map(s => s.domain)].filter(Boolean));
    const loose = this.r.domains.filter(d => d.iommu === name && !attached.has(d.id));
    if (loose.length) {
      children.push(folder(`${id}/unattached`, 'Unattached domains', `${loose.length}`, 'debug-disconnect',
        loose.map(d => this.domainNode(d, `${id}/unattached`, undefined)),
        'Domains allocated on this IOMMU that no device is attached to right now.'));
    }
    const minPage = info?.pgsize_bitmap.length ? Math.min(...info.pgsize_bitmap) : undefined;
    return {
      id, kind: 'iommu', label: name, icon: 'circuit-board', contextValue: tags('iommu', {}), expanded: true, children,
      description: info ? [info.model, minPage ? sizeLabel(minPage) : undefined, `${info.ias}→${info.oas}-bit`]
        .filter(Boolean).join(' · ') : undefined,
      tooltip: info ? mdTable(`IOMMU ${md(name)}`, [
        ['model', code(info.model)],
        ['pgsize_bitmap', code(pgsizeText(info.pgsize_bitmap))],
        ['input / output address size', `${info.ias} / ${info.oas} bits`],
        ['bypass', info.bypass ? 'supported' : 'no'],
        ['groups', `${groups.length}`],
        ...(info.registers ?? []).map(reg => [`${code(reg.name)} @ ${code(reg.offset)}`, code(reg.value)] as [string, string]),
      ]) : mdTable(`IOMMU ${md(name)}`, [['groups', `${groups.length}`]]),
    };
  }

  groupNode(g: ReportGroup): TreeNode {
    const id = `group:${g.id}`;
    const devices = this.r.devices.filter(d => d.group === g.id);
    const current = g.domain ?? devices[0]?.domain ?? null;
    const onDefault = !g.default_domain || current === g.default_domain;
    return {
      id, kind: 'group', label: `group ${g.id}`, icon: 'layers', contextValue: tags('group', {}), expanded: true,
      description: [`${g.devices.length} device${g.devices.length === 1 ? '' : 's'}`,
        current ? `on ${current}${onDefault ? '' : ' (not default)'}` : 'no domain'].join(' · '),
      tooltip: mdTable(`IOMMU group ${g.id}`, [
        ['IOMMU', code(g.iommu)],
        ['devices', g.devices.map(code).join(', ') || 'none'],
        ['default domain', g.default_domain ? code(g.default_domain) : g.default_domain === null ? 'none' : undefined],
        ['current domain', current ? code(current) : 'none'],
      ]),
      children: devices.map(d => this.deviceNode(d)),
    };
  }

  deviceNode(d: ReportDevice): TreeNode {
    const id = `dev:${d.name}`;
    const domain = d.domain ? this.r.domains.find(x => x.id === d.domain) : undefined;
    const children: TreeNode[] = [];
    if (domain) children.push(this.domainNode(domain, id, d.name));
    else if (d.domain) children.push(info(`${id}/domain`, `domain ${d.domain}`, 'not in the report'));
    const bufs = (this.r.buffers ?? []).filter(b => b.dma?.some(m => m.dev === d.name));
    if (bufs.length) {
      children.push(folder(`${id}/buffers`, 'DMA buffers', `${bufs.length}`, 'database',
        bufs.map(b => this.bufferNode(b, `${id}/buffers`, d.name)), `CPU buffers mapped for ${md(d.name)}`, false));
    }
    for (const s of (this.r.sva ?? []).filter(s => s.dev === d.name)) {
      children.push({
        id: `${id}/sva:${s.pasid}`, kind: 'sva', label: `PASID ${s.pasid}`, description: `mm ${s.mm} · ${s.domain}`,
        icon: 'link', contextValue: tags('sva', {}), children: [], ref: { dev: d.name, domain: s.domain },
        tooltip: mdTable('SVA bond', [['device', code(d.name)], ['PASID', `${code(s.pasid)} (${code(hex(s.pasid))})`],
          ['mm', code(s.mm)], ['SVA domain', code(s.domain)]]),
      });
    }
    const flags = [d.bus, d.untrusted ? 'untrusted' : undefined, d.coherent === false ? 'non-coherent' : undefined,
      d.probed === false ? 'not probed' : undefined].filter(Boolean);
    return {
      id, kind: 'device', label: d.name, icon: d.untrusted ? 'plug' : 'server-environment',
      iconColor: d.untrusted ? 'problemsWarningIcon.foreground' : undefined,
      description: [d.streams.length ? `stream${d.streams.length > 1 ? 's' : ''} ${d.streams.map(hex).join(',')}` : undefined,
        ...flags].filter(Boolean).join(' · '),
      contextValue: tags('device', { mappable: !!d.domain }), expanded: true, children,
      mapFocus: { dev: d.name, domain: d.domain ?? undefined }, ref: { dev: d.name, domain: d.domain ?? undefined },
      tooltip: mdTable(`device ${md(d.name)}`, [
        ['bus', d.bus], ['stream IDs', d.streams.map(s => code(hex(s))).join(', ') || 'none'],
        ['IOMMU', this.iommuOfDevice(d) ? code(this.iommuOfDevice(d)!) : 'none (direct DMA)'],
        ['group', d.group === null ? 'none' : `${d.group}`], ['domain', d.domain ? code(d.domain) : 'none'],
        ['untrusted', d.untrusted ? 'yes (bounces unaligned DMA through swiotlb)' : 'no'],
        ['coherent', d.coherent === undefined ? undefined : d.coherent ? 'yes' : 'no'],
        ['DMA mask', d.dma_mask === undefined ? undefined : `${d.dma_mask} bits`],
        ['probed', d.probed === undefined ? undefined : d.probed ? 'yes' : 'no'],
      ]),
    };
  }

  domainNode(dom: ReportDomain, parentId: string, dev: string | undefined): TreeNode {
    const id = `${parentId}/domain:${dom.id}`;
    const mappings = [...dom.mappings].sort((a, b) => addrValue(a.iova) - addrValue(b.iova));
    const shown = mappings.slice(0, MAX_MAPPING_NODES).map(m => this.mappingNode(dom, m, id));
    if (mappings.length > MAX_MAPPING_NODES) {
      shown.push(info(`${id}/more`, `${mappings.length - MAX_MAPPING_NODES} more mappings`, 'open the address map to see all'));
    }
    const reserved = (dom.reserved ?? []).map((r, i): TreeNode => ({
      id: `${id}/reserved:${i}`, kind: 'reserved', label: `${r.start}-${r.end}`, description: `reserved · ${r.why}`,
      icon: 'circle-slash', contextValue: tags('reserved', { copyable: true }), children: [], address: r.start,
      tooltip: mdTable('reserved IOVA region', [['range', code(`${r.start}-${r.end}`)], ['why', md(r.why)]]),
    }));
    const total = mappings.reduce((a, m) => a + m.size, 0);
    const exposed = mappings.reduce((a, m) => a + (m.exposed ?? 0), 0);
    return {
      id, kind: 'domain', label: `${dom.id} · ${dom.type}`, icon: 'symbol-namespace',
      description: [dom.default_of_group !== undefined && dom.default_of_group !== null ? `default of group ${dom.default_of_group}` : undefined,
        `granule ${sizeLabel(dom.granule)}`, `${mappings.length} mapping${mappings.length === 1 ? '' : 's'}`,
        exposed ? `${sizeLabel(exposed)} exposed` : undefined].filter(Boolean).join(' · '),
      iconColor: exposed ? 'problemsWarningIcon.foreground' : undefined,
      contextValue: tags('domain', { mappable: true }), expanded: mappings.length <= 64,
      children: [...shown, ...reserved], mapFocus: { domain: dom.id, dev }, ref: { domain: dom.id, dev },
      tooltip: mdTable(`domain ${md(dom.id)} (IOMMU_DOMAIN_${dom.type})`, [
        ['IOMMU', code(dom.iommu)], ['granule', `${code(hex(dom.granule))} (${sizeLabel(dom.granule)})`],
        ['pgsize_bitmap', code(pgsizeText(dom.pgsize_bitmap))],
        ['page-table format', dom.format ? code(dom.format) : undefined],
        ['aperture', dom.aperture ? code(`${dom.aperture.start}-${dom.aperture.end}`) : undefined],
        ['IOVA cookie', dom.iova_cookie === undefined ? undefined : dom.iova_cookie ? 'yes (DMA API)' : 'none'],
        ['default domain of group', dom.default_of_group === undefined || dom.default_of_group === null ? undefined : `${dom.default_of_group}`],
        ['devices', dom.devices.map(code).join(', ') || 'none'],
        ['mapped', `${mappings.length} mappings, ${code(hex(total))} (${sizeLabel(total)})`],
        ['exposed beyond requests', exposed ? `${code(hex(exposed))} (${sizeLabel(exposed)})` : undefined],
      ]),
    };
  }

  mappingNode(dom: ReportDomain, m: ReportMapping, parentId: string): TreeNode {
    const stepMatch = m.owner ? /\bstep (\d+)\b/.exec(m.owner) : null;
    const step = stepMatch ? Number(stepMatch[1]) : this.writerOf(dom.id, addrValue(m.iova), m.size);
    const site = step !== undefined ? this.r.steps[step]?.site ?? undefined : undefined;
    const exposed = m.exposed ?? 0;
    const paddr = addrValue(m.paddr);
    const owner = m.owner ?? (step !== undefined && this.r.steps[step] ? `${this.r.steps[step].op} step ${step}` : undefined);
    return {
      id: `${parentId}/map:${m.iova}`, kind: 'mapping',
      label: `${rangeLabel(m.iova, m.size)} → ${Number.isFinite(paddr) ? hex(paddr) : m.paddr}`,
      description: [sizeLabel(m.size), protShort(m.prot), owner, exposed ? `exposes ${sizeLabel(exposed)}` : undefined,
        m.stale ? 'stale in IOTLB' : undefined].filter(Boolean).join(' · '),
      icon: exposed ? 'warning' : m.stale ? 'history' : 'arrow-right',
      iconColor: exposed ? 'problemsWarningIcon.foreground' : undefined,
      contextValue: tags('mapping', { copyable: true, mappable: true, hasSite: !!site }), children: [],
      address: m.iova, site, step, scenarioLine: step !== undefined ? this.r.steps[step]?.line : undefined,
      mapFocus: { domain: dom.id, iova: m.iova, paddr: m.paddr }, ref: { domain: dom.id, iova: m.iova, size: m.size },
      tooltip: mdTable(`mapping in ${md(dom.id)}`, [
        ['IOVA', code(rangeLabel(m.iova, m.size))], ['physical', code(rangeLabel(m.paddr, m.size))],
        ['size', `${code(hex(m.size))} (${sizeLabel(m.size)})`], ['prot', code(protFlags(m.prot))],
        ['owner', owner ? md(owner) : undefined],
        ['requested', m.requested !== undefined ? `${code(hex(m.requested))} (${sizeLabel(m.requested)})` : undefined],
        ['exposed beyond request', exposed ? `**${code(hex(exposed))} (${sizeLabel(exposed)})**` : undefined],
        ['IOTLB', m.stale ? 'unmapped, still cached (lazy invalidation)' : undefined],
        ['site', site ? code(site) : undefined],
      ]),
    };
  }

  bufferNode(b: ReportBuffer, parentId: string, dev?: string): TreeNode {
    const id = `${parentId}/buf:${b.id}`;
    const dma = (b.dma ?? []).filter(m => !dev || m.dev === dev);
    return {
      id, kind: 'buffer', label: `${b.id} · ${b.kind}`, icon: b.freed ? 'trash' : 'package',
      description: [rangeLabel(b.paddr, b.size), sizeLabel(b.size), b.owner, b.freed ? 'freed' : undefined].filter(Boolean).join(' · '),
      contextValue: tags('buffer', { copyable: true }), address: b.paddr, children: dev ? [] : dma.map((m, i): TreeNode => ({
        id: `${id}/dma:${i}`, kind: 'buffer-dma', label: `${m.dev} @ ${m.dma}`, description: sizeLabel(m.size),
        icon: 'arrow-swap', contextValue: tags('buffer-dma', { copyable: true, mappable: true }), children: [],
        address: m.dma, mapFocus: { dev: m.dev, iova: m.dma },
      })),
      tooltip: mdTable(`buffer ${md(b.id)} (${md(b.kind)})`, [
        ['physical', code(rangeLabel(b.paddr, b.size))], ['size', `${code(hex(b.size))} (${sizeLabel(b.size)})`],
        ['owner', b.owner ? md(b.owner) : undefined], ['freed', b.freed ? 'yes' : undefined],
        ...dma.map(m => [`DMA for ${code(m.dev)}`, `${code(m.dma)} (${sizeLabel(m.size)})`] as [string, string]),
      ]),
    };
  }

  iovadNode(v: NonNullable<Report['iovads']>[number]): TreeNode {
    const id = `iovad:${v.id}`;
    const pages = (r: { pfn_lo: number; pfn_hi: number }) => r.pfn_hi - r.pfn_lo + 1;
    return {
      id, kind: 'iovad', label: v.id, icon: 'symbol-numeric', contextValue: tags('iovad', {}),
      description: `granule ${sizeLabel(v.granule)} · start_pfn ${hex(v.start_pfn)} · ${v.ranges.length} allocated`,
      tooltip: mdTable(`iova_domain ${md(v.id)}`, [['granule', `${code(hex(v.granule))} (${sizeLabel(v.granule)})`],
        ['start_pfn', code(hex(v.start_pfn))], ['allocated ranges', `${v.ranges.length}`],
        ['cached in rcache', v.cached === undefined ? undefined : `${v.cached}`]]),
      children: v.ranges.map((r): TreeNode => ({
        id: `${id}/pfn:${r.pfn_lo}`, kind: 'iova-range', label: `pfn ${hex(r.pfn_lo)}-${hex(r.pfn_hi)}`,
        description: [`${pages(r)} page${pages(r) === 1 ? '' : 's'}`, r.fast ? 'alloc_iova_fast' : undefined].filter(Boolean).join(' · '),
        icon: 'symbol-number', contextValue: tags('iova-range', { copyable: true }), children: [],
        address: hex(r.pfn_lo * v.granule),
        tooltip: mdTable('IOVA range', [['pfn', code(`${hex(r.pfn_lo)}-${hex(r.pfn_hi)}`)],
          ['IOVA', code(rangeLabel(r.pfn_lo * v.granule, pages(r) * v.granule))],
          ['allocated by', r.fast ? 'alloc_iova_fast (free with free_iova_fast)' : 'alloc_iova (free with free_iova / __free_iova)']]),
      })),
    };
  }
}

function info(id: string, label: string, description: string): TreeNode {
  return { id, kind: 'info', label, description, icon: 'info', contextValue: 'info', children: [] };
}
