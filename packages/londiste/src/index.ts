export { SKYTOOLS_TS_VERSION as LONDISTE_VERSION } from '@skytools/core';
