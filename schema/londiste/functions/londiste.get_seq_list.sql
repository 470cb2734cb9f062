-- londiste.get_seq_list(queue): every sequence of the queue with its last published value and
-- whether it is replicated here.
CREATE OR REPLACE FUNCTION londiste.get_seq_list(
    IN i_queue_name text,
    OUT seq_name text, OUT last_value int8, OUT local boolean)
RETURNS SETOF record
LANGUAGE sql STRICT STABLE
AS $$
    SELECT s.seq_name, s.last_value, s.local FROM londiste.seq_info s
     WHERE s.queue_name = i_queue_name ORDER BY s.nr, s.seq_name
$$;
