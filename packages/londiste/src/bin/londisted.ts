#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { SKYTOOLS_TS_VERSION } from '@skytools/core';

// The supervisor arrives with the replication issue; until then the binary documents its interface.
await yargs(hideBin(process.argv))
  .scriptName('londisted')
  .usage('$0 --config londisted.yaml\n\nSupervisor hosting many Londiste replication jobs in one process.')
  .option('config', { alias: 'c', type: 'string', describe: 'YAML configuration naming jobs_dir' })
  .version(SKYTOOLS_TS_VERSION)
  .help()
  .strict()
  .parseAsync();
