-- pgq_coop: cooperative consuming, several sub-consumers sharing one consumer's batches.
--   psql -1 -v ON_ERROR_STOP=1 -f schema/pgq_coop/install.sql   (after schema/pgq/install.sql)
-- Safe to run again over an existing installation.
\set ON_ERROR_STOP 1
-- serialise with other installers (same key as the installer in packages/core)
SELECT pg_advisory_xact_lock(7310411203);
SET client_min_messages = warning;
SET check_function_bodies = off;

CREATE SCHEMA IF NOT EXISTS pgq_coop;
\ir functions/pgq_coop.upgrade_schema.sql
SELECT pgq_coop.upgrade_schema();

\ir functions/pgq_coop.version.sql
\ir functions/pgq_coop.register_subconsumer.sql
\ir functions/pgq_coop.unregister_subconsumer.sql
\ir functions/pgq_coop.next_batch_custom.sql
\ir functions/pgq_coop.next_batch.sql
\ir functions/pgq_coop.finish_batch.sql

\ir structure/grants.sql

RESET check_function_bodies;
RESET client_min_messages;
