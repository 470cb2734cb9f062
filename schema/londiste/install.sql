-- londiste: replicated tables and sequences of cascaded queues. Needs pgq and pgq_node.
--   psql -1 -v ON_ERROR_STOP=1 -f schema/londiste/install.sql
-- Safe to run again over an existing installation.
\set ON_ERROR_STOP 1
SELECT pg_advisory_xact_lock(7310411203);
SET client_min_messages = warning;
SET check_function_bodies = off;

\ir structure/tables.sql
\ir structure/copy_backlog.sql
\ir structure/table_error.sql
\ir functions/londiste.upgrade_schema.sql
SELECT londiste.upgrade_schema();

\ir functions/londiste.version.sql
\ir functions/londiste.make_fqname.sql
\ir functions/londiste.split_fqname.sql
\ir functions/londiste.quote_fqname.sql
\ir functions/londiste.find_rel_oid.sql
\ir functions/londiste.find_column_types.sql
\ir functions/londiste.is_replica_func.sql
\ir functions/londiste.drop_table_triggers.sql
\ir functions/londiste.table_info_trigger.sql
\ir functions/londiste.create_trigger.sql
\ir functions/londiste.root_notify_change.sql
\ir functions/londiste.global_add_table.sql
\ir functions/londiste.global_remove_table.sql
\ir functions/londiste.local_add_table.sql
\ir functions/londiste.local_remove_table.sql
\ir functions/londiste.local_change_handler.sql
\ir functions/londiste.local_set_table_state.sql
\ir functions/londiste.local_set_table_attrs.sql
\ir functions/londiste.local_set_table_struct.sql
\ir functions/londiste._coordinate_copy.sql
\ir functions/londiste.get_table_list.sql
\ir functions/londiste.local_set_table_error.sql
\ir functions/londiste.get_table_errors.sql
\ir functions/londiste.local_show_missing.sql
\ir functions/londiste.get_seq_list.sql
\ir functions/londiste.local_add_seq.sql
\ir functions/londiste.local_remove_seq.sql
\ir functions/londiste.global_update_seq.sql
\ir functions/londiste.global_remove_seq.sql
\ir functions/londiste.root_check_seqs.sql
\ir functions/londiste.set_session_replication_role.sql
\ir functions/londiste.execute_start.sql
\ir functions/londiste.execute_finish.sql
\ir functions/londiste.find_table_fkeys.sql
\ir functions/londiste.drop_table_fkey.sql
\ir functions/londiste.restore_table_fkey.sql
\ir functions/londiste.get_table_pending_fkeys.sql
\ir functions/londiste.get_valid_pending_fkeys.sql
\ir functions/londiste.create_partition.sql
\ir functions/londiste.periodic_maintenance.sql

\ir structure/triggers.sql
\ir structure/grants.sql

RESET check_function_bodies;
RESET client_min_messages;
