// Synthetic kernel traces for the import benchmark and fuzzing: a machine boots its devices into IOMMU
// groups and default domains, then drivers stream DMA (dma-iommu: map + dma_map_phys, unmap +
// dma_unmap_phys, scatterlists, coherent allocations), an accelerator maps its own driver-owned domain
// with iommu_map/iommu_unmap from a user task (sometimes unmapping part of an object), devices fault,
// and the scheduler's events are interleaved. Deterministic for a seed; the result also says which
// mappings must be live at the end, per device, so tests can check the importer against it.
import { dirName, tp, traceLine } from './tracepoints';
import { mulberry32 } from '../core/prng';

export interface GenerateOptions {
  /** follow some events with kernel stack traces (` => function+0x1c/0x40 [module]`) */
  stacks?: boolean;
}

export interface ExpectedMapping { iova: number; size: number; paddr: number }

export interface GeneratedTrace {
  text: string;
  /** IOVA mappings live at the end of the trace, by device name */
  live: Record<string, ExpectedMapping[]>;
  /** event lines written (IOMMU, DMA and other subsystems') */
  events: number;
}

/** IOVA space of one domain, handed out in fixed slots (devices of a group share their default domain's). */
interface IovaSpace { next: number; free: number[] }
interface GenDevice {
  name: string; driver: string; group: number; ownDomain: boolean; fn: string;
  task: string; cpu: number; space: IovaSpace; live: Handle[];
}
interface Handle {
  slot: number; iova: number; size: number; paddr: number; off: number; requested: number;
  kind: 'single' | 'sg' | 'coherent'; parts?: ExpectedMapping[];
}

const PAGE = 4096;
const SLOT = 32 * PAGE;                  // larger than any buffer the generator maps

const prng = mulberry32;

const DEVICES: Array<Omit<GenDevice, 'space' | 'live'>> = [
  { name: '0000:03:00.0', driver: 'nvme', group: 12, ownDomain: false, fn: 'nvme_map_data', task: 'kworker/u16:3-211', cpu: 2 },
  { name: '0000:05:00.0', driver: 'xhci_hcd', group: 13, ownDomain: false, fn: 'xhci_map_urb_for_dma', task: 'irq/45-xhci_hcd-310', cpu: 4 },
  { name: '0000:06:00.0', driver: 'r8169', group: 14, ownDomain: false, fn: 'rtl8169_start_xmit', task: 'ksoftirqd/1-22', cpu: 1 },
  { name: '0000:06:00.1', driver: 'r8169', group: 14, ownDomain: false, fn: 'rtl8169_rx_fill', task: 'kworker/1:2-95', cpu: 1 },
  { name: '1a000000.apu', driver: 'apu', group: 3, ownDomain: true, fn: 'apu_gem_iommu_map', task: 'apu-test-812', cpu: 6 },
];
const OTHER_TASKS = ['systemd-journal-411', 'gnome-shell-1502', 'kworker/0:1-17', 'rcu_preempt-16'];

export function generateTrace(nEvents: number, seed: number, opts: GenerateOptions = {}): string {
  return generateTraceCase(nEvents, seed, opts).text;
}

export function generateTraceCase(nEvents: number, seed: number, opts: GenerateOptions = {}): GeneratedTrace {
  const rnd = prng(seed);
  const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
  const out: string[] = ['# tracer: nop', '#', '', '#'];           // [2]: the entries line, once the count is known
  let seq = 1_000_000;
  let events = 0;
  const emit = (name: string, body: string, task: string, cpu: number) => {
    seq += 1 + Math.floor(rnd() * 40);
    const dash = task.lastIndexOf('-');
    out.push(traceLine(name, body, seq, task.slice(0, dash), Number(task.slice(dash + 1)), cpu));
    events++;
  };
  const stack = (frames: string[]) => {
    if (!opts.stacks || rnd() < 0.5) return;
    for (const f of frames) out.push(` => ${f}+0x${(16 + Math.floor(rnd() * 200)).toString(16)}/0x${(0x200).toString(16)}`);
  };
  const spaces = new Map<number, IovaSpace>();
  const devs: GenDevice[] = DEVICES.map(d => {
    let space = d.ownDomain ? undefined : spaces.get(d.group);
    if (!space) {
      space = { next: d.ownDomain ? 0x10000000 : 0x100000000, free: [] };
      if (!d.ownDomain) spaces.set(d.group, space);
    }
    return { ...d, space, live: [] };
  });

  // boot: probe adds each device to its group and attaches the default domain; the accelerator's driver
  // then attaches a domain of its own
  for (const d of devs) {
    emit('add_device_to_group', tp.addDeviceToGroup(d.group, d.name), '(udev-worker)-532', 3);
    emit('attach_device_to_domain', tp.attachDeviceToDomain(d.name), '(udev-worker)-532', 3);
  }
  for (const d of devs) if (d.ownDomain) emit('attach_device_to_domain', tp.attachDeviceToDomain(d.name), '(udev-worker)-532', 3);

  // top-down like the IOVA allocator; freed slots are reused in LIFO order like the rcache
  const allocSlot = (d: GenDevice): number => d.space.free.pop() ?? (d.space.next -= SLOT);
  const freeSlot = (d: GenDevice, slot: number) => d.space.free.push(slot);
  const randPaddr = () => 0x100000000 + Math.floor(rnd() * 0x300000) * PAGE;
  const dmaDevs = devs.filter(d => !d.ownDomain);
  const apu = devs.find(d => d.ownDomain)!;

  const streamMap = (d: GenDevice) => {
    const requested = 64 + Math.floor(rnd() * 16 * PAGE);
    const paddr = randPaddr() + Math.floor(rnd() * 64) * 64;
    const off = paddr % PAGE;
    const size = Math.ceil((requested + off) / PAGE) * PAGE;
    const iova = allocSlot(d);
    emit('map', tp.map(iova, paddr - off, size), d.task, d.cpu);
    stack(['iommu_map', '__iommu_dma_map', 'iommu_dma_map_phys', 'dma_map_phys', d.fn]);
    if (rnd() < 0.1) { if (rnd() < 0.5) other(); else apuMap(); }     // another CPU's event lands in between
    emit('dma_map_phys', tp.dmaMapPhys(d.name, dirName(pick(['to_device', 'from_device', 'bidirectional'])), iova + off, requested, paddr), d.task, d.cpu);
    d.live.push({ slot: iova, iova, size, paddr: paddr - off, off, requested, kind: 'single' });
  };
  const sgMap = (d: GenDevice) => {
    const n = 2 + Math.floor(rnd() * 6);
    const parts: ExpectedMapping[] = [];
    let total = 0;
    const lens: number[] = [];
    const phys: number[] = [];
    for (let i = 0; i < n; i++) {
      const len = (1 + Math.floor(rnd() * 4)) * PAGE;
      lens.push(len);
      phys.push(randPaddr());
      total += len;
    }
    const base = allocSlot(d);
    let at = base;
    for (let i = 0; i < n; i++) {
      emit('map', tp.map(at, phys[i], lens[i]), d.task, d.cpu);
      parts.push({ iova: at, size: lens[i], paddr: phys[i] });
      at += lens[i];
    }
    emit('dma_map_sg', tp.dmaMapSg(d.name, 'TO_DEVICE', n, n, 1, 1, [base], [total], phys), d.task, d.cpu);
    d.live.push({ slot: base, iova: base, size: total, paddr: phys[0], off: 0, requested: total, kind: 'sg', parts });
  };
  const coherent = (d: GenDevice) => {
    const size = (1 + Math.floor(rnd() * 8)) * PAGE;
    const paddr = randPaddr();
    const iova = allocSlot(d);
    emit('map', tp.map(iova, paddr, size), d.task, d.cpu);
    emit('dma_alloc', tp.dmaAlloc(d.name, iova, 0xffff000000000 + paddr, size, 'BIDIRECTIONAL'), d.task, d.cpu);
    d.live.push({ slot: iova, iova, size, paddr, off: 0, requested: size, kind: 'coherent' });
  };
  const release = (d: GenDevice) => {
    const i = Math.floor(rnd() * d.live.length);
    const h = d.live[i];
    d.live[i] = d.live[d.live.length - 1];
    d.live.pop();
    emit('unmap', tp.unmap(h.iova, h.size, h.size), d.task, d.cpu);
    if (h.kind === 'single') {
      emit('dma_unmap_phys', tp.dmaUnmapPhys(d.name, 'TO_DEVICE', h.iova + h.off, h.requested), d.task, d.cpu);
    } else if (h.kind === 'sg') {
      emit('dma_unmap_sg', tp.dmaUnmapSg(d.name, 'TO_DEVICE', h.parts!.length, h.parts!.map(p => p.paddr)), d.task, d.cpu);
    } else {
      emit('dma_free', tp.dmaFree(d.name, h.iova, 0xffff000000000 + h.paddr, h.size, 'BIDIRECTIONAL'), d.task, d.cpu);
    }
    freeSlot(d, h.slot);
  };
  // the accelerator maps GEM objects into its own domain with iommu_map, from the user's task
  function apuMap() {
    const size = (1 + Math.floor(rnd() * 32)) * PAGE;
    const paddr = randPaddr();
    const iova = allocSlot(apu);
    emit('map', tp.map(iova, paddr, size), apu.task, apu.cpu);
    stack(['iommu_map', 'apu_gem_iommu_map', 'apu_ioctl', '__arm64_sys_ioctl']);
    apu.live.push({ slot: iova, iova, size, paddr, off: 0, requested: size, kind: 'single' });
  }
  const apuUnmap = () => {
    const i = Math.floor(rnd() * apu.live.length);
    const h = apu.live[i];
    if (h.size > PAGE && rnd() < 0.3) {
      // unmap the object's first page only: the mapping splits
      emit('unmap', tp.unmap(h.iova, PAGE, PAGE), apu.task, apu.cpu);
      h.iova += PAGE; h.paddr += PAGE; h.size -= PAGE;
      return;
    }
    apu.live[i] = apu.live[apu.live.length - 1];
    apu.live.pop();
    emit('unmap', tp.unmap(h.iova, h.size, h.size), apu.task, apu.cpu);
    freeSlot(apu, h.slot);
  };
  const fault = () => {
    const d = pick(devs);
    const iova = 0xfe000000 + Math.floor(rnd() * 0x1000) * PAGE;
    emit('io_page_fault', tp.ioPageFault(d.driver, d.name, iova, rnd() < 0.5 ? 1 : 0), '<idle>-0', d.cpu);
  };
  function other() {
    const task = pick(OTHER_TASKS);
    const next = pick(OTHER_TASKS);
    const [comm, pid] = [task.slice(0, task.lastIndexOf('-')), task.slice(task.lastIndexOf('-') + 1)];
    const [ncomm, npid] = [next.slice(0, next.lastIndexOf('-')), next.slice(next.lastIndexOf('-') + 1)];
    emit('sched_switch', `prev_comm=${comm} prev_pid=${pid} prev_prio=120 prev_state=S ==> next_comm=${ncomm} next_pid=${npid} next_prio=120`, task, 7);
  }

  while (events < nEvents) {
    const r = rnd();
    const d = pick(dmaDevs);
    if (r < 0.30) { if (d.live.length > 400) release(d); else streamMap(d); }
    else if (r < 0.56) { if (d.live.length) release(d); else streamMap(d); }
    else if (r < 0.61) sgMap(d);
    else if (r < 0.63) coherent(d);
    else if (r < 0.71) { if (apu.live.length > 400) apuUnmap(); else apuMap(); }
    else if (r < 0.77) { if (apu.live.length) apuUnmap(); else apuMap(); }
    else if (r < 0.78) fault();
    else if (r < 0.83) emit('dma_sync_single_for_cpu', tp.dmaSyncSingle(d.name, 'FROM_DEVICE', 0xfff00000, PAGE), d.task, d.cpu);
    else other();
  }

  out[2] = `# entries-in-buffer/entries-written: ${events}/${events}   #P:8`;
  const live: Record<string, ExpectedMapping[]> = {};
  for (const d of devs) {
    live[d.name] = d.live.flatMap(h => h.parts ?? [{ iova: h.iova, size: h.size, paddr: h.paddr }]).sort((a, b) => a.iova - b.iova);
  }
  return { text: out.join('\n') + '\n', live, events };
}
