-- pgq_ext: exactly-once bookkeeping for consumers that write into another database.
--   psql -1 -v ON_ERROR_STOP=1 -f schema/pgq_ext/install.sql
-- Safe to run again over an existing installation.
\set ON_ERROR_STOP 1
SELECT pg_advisory_xact_lock(7310411203);
SET client_min_messages = warning;
SET check_function_bodies = off;

\ir structure/tables.sql
\ir functions/pgq_ext.upgrade_schema.sql
SELECT pgq_ext.upgrade_schema();

\ir functions/pgq_ext.version.sql
\ir functions/pgq_ext.is_batch_done.sql
\ir functions/pgq_ext.set_batch_done.sql
\ir functions/pgq_ext.is_event_done.sql
\ir functions/pgq_ext.set_event_done.sql
\ir functions/pgq_ext.get_last_tick.sql
\ir functions/pgq_ext.set_last_tick.sql

RESET check_function_bodies;
RESET client_min_messages;
