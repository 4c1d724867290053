// One DART's register file and the hardware operations apple-dart.c performs on it (reset, TTBR and TCR
// programming, TLB invalidation, fault latching). Every write is kept, so the register view changes as
// streams are enabled, TTBRs programmed and invalidations issued; writes are reported as debug printk events.
import type { RegisterValue } from '../../iommu/instance';
import { hexPad } from '../../core/format';
import {
  DartHw, ERROR_FLAG, FaultCode, Field, PARAMS1, PARAMS1_PAGE_SHIFT, PARAMS2, PARAMS2_BYPASS, T8020_STREAM_COMMAND,
  T8020_STREAM_COMMAND_INVALIDATE, T8020_STREAM_SELECT, T8110_ERROR_MASK, T8110_PARAMS3, T8110_PARAMS3_FIELDS, T8110_PARAMS4,
  T8110_PARAMS4_FIELDS, T8110_TLB_CMD, T8110_TLB_CMD_FIELDS, T8110_TLB_CMD_OP_FLUSH_SID, decodeFields, errorFields, tcrFields,
  tcrOffset, ttbrFields, ttbrOffset,
} from './regs';
import { encodeTtbr } from './format';

export interface DartParams {
  pgsize: number;
  bypass: boolean;        // PARAMS2 BYPASS_SUPPORT
  locked: boolean;        // the firmware set the lock bit (CONFIG.LOCK / PROTECT.TTBR_TCR)
  ias: number;
  oas: number;
  streams: number;
}

export type RegWriteLog = (text: string) => void;
/** Whether anyone reads the register-write log now: the text is only built then (every unmap writes registers). */
export type RegWriteLogWanted = () => boolean;

export class DartHardware {
  private readonly regs = new Map<number, number>();
  /** streams that have been programmed or used since reset (the register view shows these) */
  private readonly touched = new Set<number>();

  constructor(readonly hw: DartHw, readonly p: DartParams, private readonly log: RegWriteLog,
    private readonly logWanted: RegWriteLogWanted = () => true) {
    this.regs.set(PARAMS1, Math.log2(p.pgsize) * 2 ** PARAMS1_PAGE_SHIFT[1]);
    this.regs.set(PARAMS2, p.bypass ? 1 : 0);
    if (hw.generation === 't8110') {
      this.regs.set(T8110_PARAMS3, p.oas * 2 ** 24 + p.ias * 2 ** 16);
      this.regs.set(T8110_PARAMS4, p.streams);
    }
    if (p.locked) this.regs.set(hw.lock.offset, 2 ** hw.lock.bit);
  }

  read(offset: number): number {
    return this.regs.get(offset) ?? 0;
  }

  /** `what` names the register in the log; a function is only called when the log is read (hot paths). */
  write(offset: number, value: number, what: string | (() => string)): void {
    this.regs.set(offset, value >>> 0);
    if (this.logWanted()) this.log(`writel(0x${hexPad(value >>> 0, 8)}, +0x${offset.toString(16)}) ${typeof what === 'string' ? what : what()}`);
  }

  get lockValue(): number {
    return this.read(this.hw.lock.offset);
  }

  /** apple_dart_hw_reset without the lock check: every stream blocked, TTBRs cleared, streams enabled, TLB flushed. */
  reset(): void {
    for (const sid of this.touched) {
      this.regs.delete(tcrOffset(this.hw, sid));
      for (let i = 0; i < this.hw.ttbrCount; i++) this.regs.delete(ttbrOffset(this.hw, sid, i));
    }
    this.log(`TCR[0..${this.p.streams - 1}] = 0, TTBR[0..${this.p.streams - 1}][*] = 0`);
    const words = this.hw.generation === 't8110' ? Math.ceil(this.p.streams / 32) : 1;
    for (let i = 0; i < words; i++) this.write(this.hw.enableStreams + 4 * i, 0xffffffff, `ENABLE_STREAMS[${i}]`);
    this.write(this.hw.error.offset, 0, 'ERROR (clear pending)');
    if (this.hw.generation === 't8110') this.write(T8110_ERROR_MASK, 0, 'ERROR_MASK');
    this.invalidate(Array.from({ length: this.p.streams }, (_, i) => i));
  }

  setTtbr(sid: number, idx: number, tablePaddr: number): void {
    this.touched.add(sid);
    this.write(ttbrOffset(this.hw, sid, idx), encodeTtbr(this.hw.ttbrEnc, tablePaddr), `TTBR[${sid}][${idx}]`);
  }

  clearTtbr(sid: number, idx: number): void {
    this.touched.add(sid);
    this.write(ttbrOffset(this.hw, sid, idx), 0, `TTBR[${sid}][${idx}]`);
  }

  setTcr(sid: number, value: number): void {
    this.touched.add(sid);
    this.write(tcrOffset(this.hw, sid), value, `TCR[${sid}]`);
  }

  tcr(sid: number): number {
    return this.read(tcrOffset(this.hw, sid));
  }

  ttbr(sid: number, idx: number): number {
    return this.read(ttbrOffset(this.hw, sid, idx));
  }

  /** t8020: STREAM_SELECT + STREAM_COMMAND.INVALIDATE for the stream set; t8110: one TLB_CMD FLUSH_SID per stream. */
  invalidate(sids: readonly number[]): void {
    if (sids.length === 0) return;
    if (this.hw.generation === 't8020') {
      const words = Math.ceil(this.p.streams / 32);
      for (let w = 0; w < words; w++) {
        let mask = 0;
        for (const sid of sids) if (Math.floor(sid / 32) === w) mask = (mask | (1 << (sid % 32))) >>> 0;
        this.write(T8020_STREAM_SELECT + 4 * w, mask, w === 0 ? 'STREAM_SELECT[0]' : () => `STREAM_SELECT[${w}]`);
      }
      this.write(T8020_STREAM_COMMAND, T8020_STREAM_COMMAND_INVALIDATE, 'STREAM_COMMAND (INVALIDATE)');
      this.regs.set(T8020_STREAM_COMMAND, 0);      // BUSY (bit 2) clears at once
      return;
    }
    for (const sid of sids) this.write(T8110_TLB_CMD, T8110_TLB_CMD_OP_FLUSH_SID * 256 + sid, () => `TLB_CMD (FLUSH_SID ${sid})`);
  }

  /** The hardware latches a fault: ERROR with FLAG, stream and code, and the faulting address. */
  latchFault(sid: number, code: FaultCode, iova: number): number {
    const bits = this.hw.codes[code] ?? 0;
    const sf = this.hw.error.streamField;
    const status = ERROR_FLAG + (sid % 2 ** sf[2]) * 2 ** sf[1] + bits;
    this.regs.set(this.hw.error.offset, status);
    this.regs.set(this.hw.error.addrLo, iova % 4294967296);
    this.regs.set(this.hw.error.addrHi, Math.floor(iova / 4294967296));
    this.touched.add(sid);
    return status;
  }

  /** The register file as data: identification, control, error state, and the per-stream TCR/TTBRs in use. */
  registers(usedStreams: Iterable<number>): RegisterValue[] {
    const hw = this.hw;
    const out: RegisterValue[] = [];
    const reg = (name: string, offset: number, fields?: readonly Field[]) => {
      const value = this.read(offset);
      out.push({ name, offset, value, ...(fields ? { fields: decodeFields(value, fields) } : {}) });
    };
    reg('PARAMS1', PARAMS1, [PARAMS1_PAGE_SHIFT]);
    reg('PARAMS2', PARAMS2, [PARAMS2_BYPASS]);
    if (hw.generation === 't8110') {
      reg('PARAMS3', T8110_PARAMS3, T8110_PARAMS3_FIELDS);
      reg('PARAMS4', T8110_PARAMS4, T8110_PARAMS4_FIELDS);
      reg('TLB_CMD', T8110_TLB_CMD, T8110_TLB_CMD_FIELDS);
    } else {
      reg('STREAM_COMMAND', T8020_STREAM_COMMAND, [['BUSY', 2, 1], ['INVALIDATE', 20, 1]]);
      for (let w = 0; w < Math.ceil(this.p.streams / 32); w++) reg(`STREAM_SELECT[${w}]`, T8020_STREAM_SELECT + 4 * w);
    }
    reg(hw.lock.name, hw.lock.offset, [['LOCK', hw.lock.bit, 1]]);
    reg('ERROR', hw.error.offset, errorFields(hw));
    reg('ERROR_ADDR_LO', hw.error.addrLo);
    reg('ERROR_ADDR_HI', hw.error.addrHi);
    const words = hw.generation === 't8110' ? Math.ceil(this.p.streams / 32) : 1;
    for (let i = 0; i < words; i++) reg(words > 1 ? `ENABLE_STREAMS[${i}]` : 'STREAMS_ENABLE', hw.enableStreams + 4 * i);
    const sids = [...new Set([...usedStreams, ...this.touched])].filter(s => s < this.p.streams).sort((a, b) => a - b);
    for (const sid of sids) {
      reg(`TCR[${sid}]`, tcrOffset(hw, sid), tcrFields(hw));
      for (let i = 0; i < hw.ttbrCount; i++) reg(`TTBR[${sid}][${i}]`, ttbrOffset(hw, sid, i), ttbrFields(hw));
    }
    return out;
  }
}
