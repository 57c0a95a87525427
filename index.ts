// Public API of fplc. Everything a user imports comes from here.
export * from './lang/ir/ir.js';
export { FIELD_NAMES, lowerField } from './lang/ir/fields.js';
export { LINK_TYPES, linkTypeName, resolveLinkType } from './lang/ir/linktypes.js';
export { CompileError, formatDiagnostic, type Diagnostic } from './lang/diagnostics.js';
export { compileFilter, compileProgram, loadFilter, lowerSource, type CompileOptions, type Language } from './vm/compile.js';
export * from './vm/module-errors.js';
export { EFFECTFUL_MAPI_EXTERNS, type LoadFilterOptions } from './vm/load.js';
export { CompiledFilter, LinkTypeMismatchError, readModuleMeta } from './vm/filter.js';
export { CaptureRunError, fileFeed, runCapture, runFeed, sourceFeed, type BatchCallback, type CaptureFeed, type FeedReader, type FeedStep } from './vm/feed.js';
export type { ExternImpl, ExternCallContext, ModuleMeta } from './abi/index.js';
export { BUILTIN_EXTERNS } from './hostfns/registry.js';
export * from './drivers/index.js';
export * from './vm/mapi/index.js';
