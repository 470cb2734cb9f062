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
\ir functions/pgq._add_column.sql
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
\ir functions/pgq._tick_has_events.sql
\ir functions/pgq.ticker.sql
\ir functions/pgq.force_tick.sql
\ir functions/pgq.register_consumer.sql
\ir functions/pgq.unregister_consumer.sql
\ir functions/pgq.find_tick_helper.sql
\ir functions/pgq.next_batch.sql
\ir functions/pgq._merged_next_tick.sql
\ir functions/pgq.next_batch_merged.sql
\ir functions/pgq.peek_next_batch.sql
\ir functions/pgq._tick_range_tables.sql
\ir functions/pgq.batch_event_tables.sql
\ir functions/pgq._tick_range_sql.sql
\ir functions/pgq.batch_event_sql.sql
\ir functions/pgq.get_batch_events.sql
\ir functions/pgq.get_batch_cursor.sql
\ir functions/pgq.get_batch_info.sql
\ir functions/pgq.finish_batch.sql
\ir functions/pgq.event_retry.sql
\ir functions/pgq.batch_retry.sql
\ir functions/pgq.event_retry_raw.sql
\ir functions/pgq.event_failed.sql
\ir functions/pgq.failed_event_list.sql
\ir functions/pgq.maint_retry_events.sql
\ir functions/pgq.maint_rotate_tables.sql
\ir functions/pgq.maint_tables_to_vacuum.sql
\ir functions/pgq.maint_operations.sql
\ir functions/pgq.get_queue_info.sql
\ir functions/pgq.get_consumer_info.sql
\ir functions/pgq._text.sql
\ir functions/pgq._text_expr.sql
\ir functions/pgq._urlenc.sql
\ir functions/pgq._trigger_args.sql
\ir functions/pgq._table_pkeys.sql
\ir functions/pgq._urlenc_expr.sql
\ir functions/pgq._magic_columns.sql
\ir functions/pgq._row_encoder.sql
\ir functions/pgq._capture.sql
\ir functions/pgq.capture_triggers.sql
\ir functions/pgq._capture_signature.sql
\ir functions/pgq._capture_sql.sql
\ir functions/pgq._write_capture_function.sql
\ir functions/pgq.generate_capture_trigger.sql
\ir functions/pgq._refresh_capture_functions.sql

\ir structure/grants.sql
\ir structure/capture.sql

RESET check_function_bodies;
RESET client_min_messages;
