#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { SKYTOOLS_TS_VERSION } from '@skytools/core';

// Commands arrive with the cascade/CLI issue; until then the binary documents its interface.
await yargs(hideBin(process.argv))
  .scriptName('londiste')
  .usage('$0 JOB.yaml COMMAND [ARGS]\n\nLondiste replication admin tool.')
  .version(SKYTOOLS_TS_VERSION)
  .help()
  .parseAsync();
