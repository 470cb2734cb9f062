-- londiste.get_table_errors(queue): the recorded copy failures of tables this node replicates.
CREATE OR REPLACE FUNCTION londiste.get_table_errors(
    IN i_queue_name text,
    OUT table_name text, OUT error text, OUT failures int4, OUT first_failed timestamptz, OUT last_failed timestamptz)
RETURNS SETOF record
LANGUAGE sql STABLE
AS $$
    SELECT e.table_name, e.error, e.failures, e.first_failed, e.last_failed
      FROM londiste.table_error e
      JOIN londiste.table_info t ON t.queue_name = e.queue_name AND t.table_name = e.table_name AND t.local
     WHERE e.queue_name = i_queue_name
     ORDER BY e.table_name
$$;
