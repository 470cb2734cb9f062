-- londiste.copy_backlog: events of tables whose initial copy is not finished yet.
-- While a table waits for or undergoes its copy, the replication worker keeps the table's
-- events here (in the same transaction that records the batch as done) instead of holding up
-- the other tables. Once the copy has committed, the worker replays them, skipping those the
-- copy's snapshot already contains, and deletes them. Not part of upstream Londiste.
CREATE TABLE IF NOT EXISTS londiste.copy_backlog (
    queue_name  text        NOT NULL,
    table_name  text        NOT NULL,
    ev_id       bigint      NOT NULL,
    ev_seq      bigserial   NOT NULL,
    ev_txid     bigint      NOT NULL,
    ev_type     text        NOT NULL,
    ev_data     text,
    ev_extra1   text,
    CONSTRAINT copy_backlog_pkey PRIMARY KEY (queue_name, table_name, ev_seq)
);
