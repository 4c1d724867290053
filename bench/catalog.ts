// Every measurement of `npm run bench`, its unit and its target (issue 7), and the bench module that runs it.
// Targets are for this 2-core machine. Each module under bench/measures/ is bundled on its own, so a subsystem
// that does not build yet only skips its own measurements.
import type { Target } from './lib/types';

export interface CatalogEntry {
  name: string;
  /** bench/measures/MODULE.ts exports `runs[name]` */
  module: string;
  unit: string;
  target: Target;
  timeoutSec: number;
  nodeArgs?: string[];
  /** entries of one group run in one child process (they share an expensive setup: a browser, a build) */
  group?: string;
  what: string;
}

export const CATALOG: CatalogEntry[] = [
  {
    name: 'dma-map-unmap', module: 'dma', unit: 'µs', timeoutSec: 120,
    target: { max: 1, ratio: 3, text: '≤ 1 µs/pair, ≤ 3× floor' },
    what: 'dma_map_single + dma_unmap_single, 4 KiB buffer, 16 KiB DART DMA domain, 4K pages, large-page series, strict',
  },
  {
    name: 'iommu-map-unmap-4k', module: 'dma', unit: 'µs', timeoutSec: 120,
    target: { max: 0.5, ratio: 3, text: '≤ 0.5 µs/pair, ≤ 3× floor' },
    what: 'iommu_map + iommu_unmap of one 4K page on a 4K/2M/1G domain',
  },
  {
    name: 'live-mappings-heap', module: 'heap', unit: 'B', timeoutSec: 240, nodeArgs: ['--expose-gc', '--max-old-space-size=6144'],
    target: { max: 32, ratio: null, text: '≤ 32 B/mapping' },
    what: 'heap bytes per live 4 KiB mapping with 1,000,000 mappings after GC',
  },
  {
    name: 'scenario-1m-steps', module: 'scenario', unit: 's', timeoutSec: 300, nodeArgs: ['--max-old-space-size=6144'],
    target: { max: 5, ratio: null, text: '≤ 5 s' },
    what: 'load + run a generated 1,000,000-step YAML scenario through the CLI (iommu-lens run FILE)',
  },
  {
    name: 'annotate', module: 'annotate', unit: 'ms/1k lines', timeoutSec: 180,
    target: { max: 20, ratio: 1.5, text: '≤ 20 ms/1k lines, ≤ 1.5× parse' },
    what: 'simulator/analysis of a 20,000-line kernel-style C file vs bare tree-sitter parse',
  },
  {
    name: 'trace-import', module: 'trace', unit: 's', timeoutSec: 240, nodeArgs: ['--max-old-space-size=6144'],
    target: { max: 3, ratio: null, text: '≤ 3 s' },
    what: 'import of a generated 1,000,000-line tracepoint file',
  },
  {
    name: 'webview-first-paint', module: 'webview', group: 'webview', unit: 'ms', timeoutSec: 240,
    target: { max: 300, ratio: null, text: '≤ 300 ms' },
    what: 'address map, 100,000 mappings, headless chromium: snapshot received to first paint done',
  },
  {
    name: 'webview-frame', module: 'webview', group: 'webview', unit: 'ms', timeoutSec: 240,
    target: { max: 16, ratio: null, text: '≤ 16 ms' },
    what: 'address map, 100,000 mappings: median paint while panning and zooming',
  },
  {
    name: 'activation', module: 'extension', group: 'extension', unit: 'ms', timeoutSec: 300,
    target: { max: 100, ratio: null, text: '≤ 100 ms' },
    what: 'extension activation in the real extension host (code-server)',
  },
  {
    name: 'vsix-size', module: 'extension', group: 'extension', unit: 'MB', timeoutSec: 240,
    target: { max: 3, ratio: null, text: '≤ 3 MB' },
    what: 'size of the packaged .vsix (npm run package)',
  },
];
