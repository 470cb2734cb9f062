export * from './errors.js';
export * from './identifiers.js';
export * from './connstr.js';
export * from './version.js';
