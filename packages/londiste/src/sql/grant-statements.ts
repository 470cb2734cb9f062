/**
 * The statements check-privileges prints for a missing privilege (shown to the user, never run
 * here), with names quoted as PostgreSQL needs them.
 */
import { quoteFqname, quoteIdent } from '@skytools/core';

export const grantRole = (role: string, user: string): string => `GRANT ${quoteIdent(role)} TO ${quoteIdent(user)};`;

export const grantReplicaRole = (user: string, serverVersion: number): string =>
  serverVersion >= 150000 ? `GRANT SET ON PARAMETER session_replication_role TO ${quoteIdent(user)};` : `ALTER ROLE ${quoteIdent(user)} SUPERUSER;  -- before PostgreSQL 15 only superusers may`;

export const alterOwner = (table: string, user: string): string => `ALTER TABLE ${quoteFqname(table)} OWNER TO ${quoteIdent(user)};`;

export const grantSelect = (table: string, user: string): string => `GRANT SELECT ON ${quoteFqname(table)} TO ${quoteIdent(user)};`;

export const grantCreateOnSchema = (schema: string, user: string): string => `GRANT CREATE ON SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(user)};`;
