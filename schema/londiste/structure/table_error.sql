-- londiste.table_error: the last failure of a table's initial copy on this node, with when it first
-- and last happened and how many times in a row, for status and tables to show (the log is not the
-- only place a failing copy is seen). A successful copy or the table's removal clears it. Not part
-- of upstream Londiste.
CREATE TABLE IF NOT EXISTS londiste.table_error (
    queue_name    text        NOT NULL,
    table_name    text        NOT NULL,
    error         text        NOT NULL,
    failures      int4        NOT NULL DEFAULT 1,
    first_failed  timestamptz NOT NULL DEFAULT now(),
    last_failed   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT table_error_pkey PRIMARY KEY (queue_name, table_name)
);
