// Op handlers: what each scenario op does to the simulated kernel. Schemas (for the loader) live in
// scenario/; handlers register here, keyed by the same name. Driver models register both.
import type { ArgValue, SourcePos, StepSpec } from '../scenario/types';
import { ScenarioError } from '../scenario/types';
import type { Kernel } from '../kernel';
import type { Domain } from '../iommu/domain';
import type { Device } from '../iommu/device';

/** The value used for `DMA_MAPPING_ERROR` results and arguments (~0 does not fit a JS number exactly). */
export const DMA_MAPPING_ERROR = 'DMA_MAPPING_ERROR';

export interface OpContext {
  k: Kernel;
  step: StepSpec;
  /** results bound with `as:` so far (for handles given by id) */
  bindings: Map<string, unknown>;
  /** an input error at the position of argument `key` (or the op) */
  fail(key: string, message: string): never;
  dev(key: string, name: unknown): Device;
  domain(key: string, v: unknown): Domain;
  /** exposure this step created (bytes beyond what was asked), for `expect: exposed` */
  exposed: number;
}

export type OpHandler = (ctx: OpContext, args: Record<string, any>) => unknown;
const handlers = new Map<string, OpHandler>();

export function registerOpHandler(name: string, h: OpHandler): void {
  handlers.set(name, h);
}

export function getOpHandler(name: string): OpHandler | undefined {
  return handlers.get(name);
}

/** One per step: methods on the prototype, so a step allocates one small object, not a set of closures. */
class StepContext implements OpContext {
  exposed = 0;

  constructor(readonly k: Kernel, readonly step: StepSpec, readonly bindings: Map<string, unknown>) {}

  private posOf(key: string): SourcePos {
    return this.step.argPos[key] ?? this.step.pos;
  }

  fail(key: string, message: string): never {
    throw new ScenarioError(this.posOf(key), message);
  }

  dev(key: string, name: unknown): Device {
    const d = typeof name === 'string' ? this.k.device(name) : undefined;
    if (!d) {
      const known = [...this.k.devices.keys()];
      this.fail(key, `unknown device '${String(name)}'` + (known.length ? `; devices: ${known.join(', ')}` : '; the platform has no devices'));
    }
    return d;
  }

  domain(key: string, v: unknown): Domain {
    const id = typeof v === 'string' ? v : v && typeof v === 'object' && 'id' in v ? String((v as { id: unknown }).id) : undefined;
    const d = id ? this.k.domains.get(id) : undefined;
    if (!d) this.fail(key, v === null ? `domain is null (the step that should have allocated it failed)` : `'${id ?? JSON.stringify(v)}' is not a domain`);
    return d;
  }
}

export function makeContext(k: Kernel, step: StepSpec, bindings: Map<string, unknown>): OpContext {
  return new StepContext(k, step, bindings);
}

/** Steps whose scalar argument is the whole argument (probe: xhci). */
export function argsObject(args: ArgValue): Record<string, unknown> {
  return args !== null && typeof args === 'object' && !Array.isArray(args) && !('kind' in args && (args as { kind: unknown }).kind === 'expr')
    ? args as Record<string, unknown> : { '': args };
}
