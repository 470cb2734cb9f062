export { SKYTOOLS_TS_VERSION as PGQD_VERSION } from '@skytools/core';
