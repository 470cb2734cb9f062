-- PgQ: install or upgrade in the current database.
--   psql -1 -v ON_ERROR_STOP=1 -f schema/pgq/install.sql
-- Safe to run again over an existing installation (every statement is idempotent).
\set ON_ERROR_STOP 1
-- serialise with other installers (same key as the installer in packages/core)
SELECT pg_advisory_xact_lock(7310411203);
SET client_min_messages = warning;
-- functions may call functions defined in later files
SET check_function_bodies = off;

\ir structure/tables.sql
\ir structure/roles.sql
\ir functions/pgq.upgrade_schema.sql
SELECT pgq.upgrade_schema();

\ir functions/pgq.version.sql
\ir functions/pgq.quote_fqname.sql
\ir functions/pgq.seq_funcs.sql
\ir functions/pgq.grant_perms.sql
\ir functions/pgq.tune_storage.sql
\ir functions/pgq.create_queue.sql
\ir functions/pgq.drop_queue.sql
\ir functions/pgq.set_queue_config.sql
\ir functions/pgq.insert_event_raw.sql
\ir functions/pgq.insert_event.sql
\ir functions/pgq.current_event_table.sql
\ir functions/pgq.ticker.sql

\ir structure/grants.sql

RESET check_function_bodies;
RESET client_min_messages;
