-- londiste: which tables and sequences of a cascaded queue each node replicates.
--
--   table_info        every table of the queue; local = replicated on this node, with its copy
--                     state (merge_state), copy snapshot, attributes and local name
--   seq_info          every sequence of the queue, with the last published value
--   applied_execute   DDL scripts run through `execute`, so each runs once per node
--   pending_fkeys     foreign keys dropped for an initial copy, to be restored after it
CREATE SCHEMA IF NOT EXISTS londiste;

CREATE TABLE IF NOT EXISTS londiste.table_info (
    nr              serial  NOT NULL,
    queue_name      text    NOT NULL,
    table_name      text    NOT NULL,
    local           boolean NOT NULL DEFAULT false,
    merge_state     text,
    custom_snapshot text,
    dropped_ddl     text,
    table_attrs     text,
    dest_table      text,
    CONSTRAINT table_info_pkey PRIMARY KEY (queue_name, table_name),
    CONSTRAINT table_info_queue_name_fkey FOREIGN KEY (queue_name) REFERENCES pgq_node.node_info (queue_name) ON DELETE CASCADE,
    CONSTRAINT table_info_check CHECK (dropped_ddl IS NULL OR merge_state IN ('in-copy', 'catching-up'))
);

CREATE TABLE IF NOT EXISTS londiste.seq_info (
    nr          serial  NOT NULL,
    queue_name  text    NOT NULL,
    seq_name    text    NOT NULL,
    local       boolean NOT NULL DEFAULT false,
    last_value  int8    NOT NULL,
    CONSTRAINT seq_info_pkey PRIMARY KEY (queue_name, seq_name),
    CONSTRAINT seq_info_queue_name_fkey FOREIGN KEY (queue_name) REFERENCES pgq_node.node_info (queue_name) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS londiste.applied_execute (
    queue_name      text        NOT NULL,
    execute_file    text        NOT NULL,
    execute_time    timestamptz NOT NULL DEFAULT now(),
    execute_sql     text        NOT NULL,
    execute_attrs   text,
    CONSTRAINT applied_execute_pkey PRIMARY KEY (execute_file)
);

CREATE TABLE IF NOT EXISTS londiste.pending_fkeys (
    from_table  text NOT NULL,
    to_table    text NOT NULL,
    fkey_name   text NOT NULL,
    fkey_def    text NOT NULL,
    CONSTRAINT pending_fkeys_pkey PRIMARY KEY (from_table, fkey_name)
);
