/** Internals of @skytools/londiste that tests exercise directly (`@skytools/londiste/internal`); not a public API. */
export { TableApplier } from './replay/table-applier.js';
export { EventStager, type StagerOptions } from './replay/event-stager.js';
export { BatchApplier } from './replay/batch-applier.js';
export { batchStageWriter, createBatchStage, layoutColumns, setJsonLayouts, stageGroups } from './sql/batch-stage-statements.js';
export { loadTableMeta, type TableMeta } from './replay/table-meta.js';
export { parseDataEvent, isDataEvent, type DataEvent, type EventFields, type Row, type RowOp } from './replay/event-parser.js';
export { createTableStatements, type TableDefinition, type CreateLevel } from './sql/table-ddl.js';
export { StageStatements } from './sql/apply-statements.js';
export { copyInSql, copyOutSql } from './sql/copy-statements.js';
export { columnMismatch } from './replay/column-check.js';
export { diffSortedRows, type RowDifference } from './compare/row-diff.js';
export { RowFixer, sortedRowsCopySql } from './sql/repair-statements.js';
export { parseObjectArg, fqName } from './object-args.js';
export { checkHandler, describeHandlers, findHandler } from './handlers/handler-registry.js';
export { formatHandler, parseHandler, parseHandlerArgs } from './handlers/handler.js';
export { shardCondition } from './handlers/part-handler.js';
