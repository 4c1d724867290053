// The DART fault IRQ (apple_dart_t8020_irq / apple_dart_t8110_irq): which error code the hardware latches for
// a failed access, derived from where the table walk stopped, and the line the handler prints.
import type { FaultInfo } from '../../iommu/instance';
import { DartFormat } from './format';
import type { DartHw, FaultCode } from './regs';

/** Code for a walk that found no valid entry at walker level `level` (0 = the TTBRs). */
export function codeForMissingLevel(fmt: DartFormat, level: number): FaultCode {
  if (level <= 0) return 'NO TTBR FOR IOVA';
  const fromLeaf = fmt.tableLevels - level;
  return fromLeaf === 0 ? 'NO PTE FOR IOVA' : fromLeaf === 1 ? 'NO PMD FOR IOVA' : 'NO PGD FOR IOVA';
}

/**
 * The code the DART reports for a failed access. Permission faults are READ/WRITE FAULT; a missing entry is
 * named by its level. The hardware picks a TTBR from the IOVA bits above the tables whatever the kernel's
 * input size, so an IOVA beyond the domain selects an unprogrammed TTBR or an L1 entry the kernel never fills.
 * A stream whose TCR neither translates nor bypasses (blocked) is reported as NO TTBR: the simulator's choice.
 */
export function dartFaultCode(f: FaultInfo, hw: DartHw): FaultCode {
  if (f.kind === 'permission') return f.access === 'write' ? 'WRITE FAULT' : 'READ FAULT';
  const pt = f.dev.group?.domain?.pgtable;
  if (f.kind === 'blocked' || !pt || !(pt.fmt instanceof DartFormat)) return 'NO TTBR FOR IOVA';
  const fmt = pt.fmt;
  const ttbrIndex = Math.floor(f.iova / 2 ** fmt.shifts[0]) % hw.ttbrCount;
  if (ttbrIndex >= fmt.nTtbrs) return 'NO TTBR FOR IOVA';
  const steps = pt.walk(f.iova);
  const stopped = f.kind === 'translation' && f.level !== undefined ? f.level : steps[steps.length - 1]?.level ?? 0;
  return codeForMissingLevel(fmt, stopped);
}

/** `translation fault: status:0x%x stream:%d code:0x%x (%s) at 0x%llx` */
export function dartFaultLine(hw: DartHw, status: number, code: FaultCode, iova: number): string {
  const sf = hw.error.streamField;
  const stream = Math.floor(status / 2 ** sf[1]) % 2 ** sf[2];
  const cf = hw.error.codeField;
  const codeBits = Math.floor(status / 2 ** cf[1]) % 2 ** cf[2];
  return `translation fault: status:0x${(status >>> 0).toString(16)} stream:${stream} code:0x${codeBits.toString(16)} (${code}) at 0x${iova.toString(16)}`;
}
