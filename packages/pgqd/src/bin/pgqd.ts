#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { SKYTOOLS_TS_VERSION } from '@skytools/core';

// The ticker itself arrives with its own issue; until then the binary documents its interface.
await yargs(hideBin(process.argv))
  .scriptName('pgqd')
  .usage('$0 [--config FILE] [-v|-q]\n\nPgQ ticker daemon: ticks queues and runs maintenance in every database of a cluster.')
  .option('config', { alias: 'c', type: 'string', describe: 'YAML configuration file' })
  .option('verbose', { alias: 'v', type: 'boolean', describe: 'more logging' })
  .option('quiet', { alias: 'q', type: 'boolean', describe: 'less logging' })
  .version(SKYTOOLS_TS_VERSION)
  .help()
  .strict()
  .parseAsync();
