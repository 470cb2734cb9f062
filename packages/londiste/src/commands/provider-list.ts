/**
 * A subscriber's lists of the queue's tables and sequences follow its provider's: add-table and
 * add-seq first add what the provider has and the subscriber lacks, and drop what the provider no
 * longer has (the events announcing them may not have arrived yet), as upstream does.
 */
import type { Logger } from '@skytools/core';

export interface ListEdits {
  add(name: string): Promise<void>;
  remove(name: string): Promise<void>;
}

/** Make `local` mirror `provider` through `edits`; `what` is 'Table' or 'Sequence' in the log lines. */
export async function mirrorProviderList(log: Logger, what: 'Table' | 'Sequence', provider: readonly string[], local: readonly string[], edits: ListEdits): Promise<void> {
  const have = new Set(local);
  const want = new Set(provider);
  for (const name of provider) {
    if (have.has(name)) continue;
    log.info(`${what} ${name} info missing from subscriber, adding`);
    await edits.add(name);
  }
  for (const name of local) {
    if (want.has(name)) continue;
    log.info(`${what} ${name} gone but exists on subscriber, removing`);
    await edits.remove(name);
  }
}
