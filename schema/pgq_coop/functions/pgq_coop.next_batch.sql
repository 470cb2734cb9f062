-- pgq_coop.next_batch(queue, consumer, subconsumer [, dead_interval]): the sub-consumer's open
-- batch, or a new one cut from the main consumer's position; NULL when there is none yet.
-- With dead_interval, a batch of a sub-consumer silent for longer than that is taken over first.
CREATE OR REPLACE FUNCTION pgq_coop.next_batch(i_queue_name text, i_consumer_name text, i_subconsumer_name text)
RETURNS bigint
LANGUAGE sql
AS $$ SELECT pgq_coop.next_batch_custom(i_queue_name, i_consumer_name, i_subconsumer_name, NULL, NULL, NULL, NULL) $$;

CREATE OR REPLACE FUNCTION pgq_coop.next_batch(i_queue_name text, i_consumer_name text, i_subconsumer_name text, i_dead_interval interval)
RETURNS bigint
LANGUAGE sql
AS $$ SELECT pgq_coop.next_batch_custom(i_queue_name, i_consumer_name, i_subconsumer_name, NULL, NULL, NULL, i_dead_interval) $$;
