// The seed scenario (seed-scenario.ts) from the oldest to the newest version of the run
// (PG_TEST_VERSIONS, by default 13 -> 17).
import { testVersions } from '@skytools/harness';
import { describeSeedScenario } from './seed-scenario.js';

const versions = testVersions();
describeSeedScenario(versions[0] ?? 15, versions[versions.length - 1] ?? 15);
