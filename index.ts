// Public API of fplc. Everything a user imports comes from here.
export * from './lang/ir/ir.js';
export { FIELD_NAMES, lowerField } from './lang/ir/fields.js';
export { LINK_TYPES, linkTypeName, resolveLinkType } from './lang/ir/linktypes.js';
