-- pgq_coop.upgrade_schema(): pgq_coop keeps its state in pgq.subscription (a sub-consumer is a
-- consumer named "consumer.subconsumer" sharing the main consumer's sub_id), so there is no table
-- of its own to bring up to date. Returns the number of changes made (always 0).
CREATE OR REPLACE FUNCTION pgq_coop.upgrade_schema()
RETURNS int4
LANGUAGE sql
AS $$ SELECT 0 $$;
