-- pgq_node: cascaded queues. Needs pgq.
--   psql -1 -v ON_ERROR_STOP=1 -f schema/pgq_node/install.sql
-- Safe to run again over an existing installation.
\set ON_ERROR_STOP 1
SELECT pg_advisory_xact_lock(7310411203);
SET client_min_messages = warning;
SET check_function_bodies = off;

\ir structure/tables.sql
\ir functions/pgq_node.upgrade_schema.sql
SELECT pgq_node.upgrade_schema();

\ir functions/pgq_node.version.sql
\ir functions/pgq_node._node_type.sql
\ir functions/pgq_node.is_root_node.sql
\ir functions/pgq_node.is_leaf_node.sql
\ir functions/pgq_node.register_location.sql
\ir functions/pgq_node.unregister_location.sql
\ir functions/pgq_node.get_queue_locations.sql
\ir functions/pgq_node.create_node.sql
\ir functions/pgq_node.drop_node.sql
\ir functions/pgq_node.get_node_info.sql
\ir functions/pgq_node.get_worker_state.sql
\ir functions/pgq_node.get_consumer_state.sql
\ir functions/pgq_node.get_consumer_info.sql
\ir functions/pgq_node.get_subscriber_info.sql
\ir functions/pgq_node.register_consumer.sql
\ir functions/pgq_node.unregister_consumer.sql
\ir functions/pgq_node.register_subscriber.sql
\ir functions/pgq_node.unregister_subscriber.sql
\ir functions/pgq_node.set_subscriber_watermark.sql
\ir functions/pgq_node.set_global_watermark.sql
\ir functions/pgq_node.set_partition_watermark.sql
\ir functions/pgq_node.maint_watermark.sql
\ir functions/pgq_node.demote_root.sql
\ir functions/pgq_node.promote_branch.sql
\ir functions/pgq_node.change_consumer_provider.sql
\ir functions/pgq_node.set_consumer_completed.sql
\ir functions/pgq_node.set_consumer_error.sql
\ir functions/pgq_node.set_consumer_paused.sql
\ir functions/pgq_node.set_consumer_uptodate.sql
\ir functions/pgq_node.set_node_attrs.sql
\ir functions/pgq_node.rename_node.sql

\ir structure/grants.sql

RESET check_function_bodies;
RESET client_min_messages;
