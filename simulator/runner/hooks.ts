// Per-step hooks other layers register (the DMA layer's flush-queue timer, dma-debug on remove ...).
import type { Kernel } from '../kernel';

export type StepHook = (k: Kernel) => void;
const afterStep: StepHook[] = [];
const atBoot: StepHook[] = [];

export function onAfterStep(h: StepHook): void { afterStep.push(h); }
export function onBoot(h: StepHook): void { atBoot.push(h); }
export function runAfterStep(k: Kernel): void { for (const h of afterStep) h(k); }
export function runAtBoot(k: Kernel): void { for (const h of atBoot) h(k); }
