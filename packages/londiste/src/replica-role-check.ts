/**
 * Applying replicated changes needs `SET session_replication_role = replica` (so triggers and
 * foreign keys of the target stay quiet). PostgreSQL allows that to superusers, and from 15 on
 * to roles granted SET on the parameter. Checked up front so the user learns it at setup time,
 * not from a failing worker.
 */
import type pg from 'pg';
import { maskConnstr, session, UsageError } from '@skytools/core';

export async function checkReplicaRole(client: pg.ClientBase, connstr: string): Promise<void> {
  if (await session.canSetReplicaRole(client)) return;
  const { user, serverVersion } = await session.whoAmI(client);
  const fix =
    serverVersion >= 150000
      ? `connect as a superuser, or run: GRANT SET ON PARAMETER session_replication_role TO ${user}`
      : 'connect as a superuser (PostgreSQL before 15 allows this setting to superusers only)';
  throw new UsageError(`permission denied to set parameter "session_replication_role" for user ${user} on '${maskConnstr(connstr)}': ${fix}`);
}
