/**
 * Applying replicated changes needs `SET session_replication_role = replica` (so triggers and
 * foreign keys of the target stay quiet). PostgreSQL allows that to superusers, and from 15 on
 * to roles granted SET on the parameter. Checked up front so the user learns it at setup time,
 * not from a failing worker.
 */
import type pg from 'pg';
import { maskConnstr, UsageError } from '@skytools/core';

export async function checkReplicaRole(client: pg.ClientBase, connstr: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL session_replication_role = 'replica'`);
  } catch (err) {
    if ((err as { code?: string }).code !== '42501') throw err;
    await client.query('ROLLBACK');
    const who = await client.query<{ u: string; v: number }>(`SELECT current_user AS u, current_setting('server_version_num')::int AS v`);
    const user = who.rows[0]?.u ?? '?';
    const fix = (who.rows[0]?.v ?? 0) >= 150000
      ? `connect as a superuser, or run: GRANT SET ON PARAMETER session_replication_role TO ${user}`
      : 'connect as a superuser (PostgreSQL before 15 allows this setting to superusers only)';
    throw new UsageError(`permission denied to set parameter "session_replication_role" for user ${user} on '${maskConnstr(connstr)}': ${fix}`, { cause: err });
  }
  await client.query('ROLLBACK');
}
