/** The project's version; also what pgq.version() and friends report in the schemas. */
export const SKYTOOLS_TS_VERSION = '0.1.0';
