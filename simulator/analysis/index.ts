// Driver source analysis: parse kernel C with tree-sitter, list IOMMU/DMA API calls and run the review
// checks. Pure TypeScript shared by the CLI and the extension (no vscode import).
export { initParser, locateWasm, newCParser, type ParserInitOptions } from './parser';
export { analyzeC, CAnalyzer, envelope, type TextChange } from './analyzer';
export { REVIEW_CHECKS, type ReviewCheckSpec } from './explain';
export { runAnnotate, formatAnalysis, formatFinding, ANNOTATE_USAGE, type AnnotateIo } from './annotate-cli';
export { preprocessKernelC } from './preprocess';
export type * from './types';
