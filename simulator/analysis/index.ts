// Driver source analysis: parse kernel C with tree-sitter, list IOMMU/DMA API calls and run the review
// checks. Pure TypeScript shared by the CLI and the extension (no vscode import).
export { initParser, locateWasm, newCParser, type ParserInitOptions } from './parser';
export { analyzeC, CAnalyzer, envelope, type TextChange } from './analyzer';
export { REVIEW_CHECKS, type ReviewCheckSpec } from './explain';
export { runAnnotate, formatAnalysis, formatFinding, formatNote, ANNOTATE_USAGE, type AnnotateIo } from './annotate-cli';
export { bindOutcomes, parseSiteRef, baseName, type SiteRef } from './bind';
export { bindingOutput } from './bind-cli';
export { RUN_SPECIFIC_CHECKS, GENERIC_CHECKS } from './bind-consequence';
export type * from './bind-types';
export { preprocessKernelC } from './preprocess';
export type * from './types';
