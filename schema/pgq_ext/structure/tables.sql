-- pgq_ext tables: a remote consumer records here, in the same transaction as the data it
-- writes, how far it got, so a batch replayed after a crash is recognised and skipped.
-- subconsumer_id '' is the plain (non-cooperative) consumer.
CREATE SCHEMA IF NOT EXISTS pgq_ext;

-- last finished tick per consumer (tick-based tracking)
CREATE TABLE IF NOT EXISTS pgq_ext.completed_tick (
    consumer_id     text    NOT NULL,
    subconsumer_id  text    NOT NULL DEFAULT '',
    last_tick_id    bigint  NOT NULL,
    CONSTRAINT completed_tick_pkey PRIMARY KEY (consumer_id, subconsumer_id)
);

-- last finished batch per consumer (batch-based tracking)
CREATE TABLE IF NOT EXISTS pgq_ext.completed_batch (
    consumer_id     text    NOT NULL,
    subconsumer_id  text    NOT NULL DEFAULT '',
    last_batch_id   bigint  NOT NULL,
    CONSTRAINT completed_batch_pkey PRIMARY KEY (consumer_id, subconsumer_id)
);

-- events finished inside the batch in progress (event-based tracking)
CREATE TABLE IF NOT EXISTS pgq_ext.completed_event (
    consumer_id     text    NOT NULL,
    subconsumer_id  text    NOT NULL DEFAULT '',
    batch_id        bigint  NOT NULL,
    event_id        bigint  NOT NULL,
    CONSTRAINT completed_event_pkey PRIMARY KEY (consumer_id, subconsumer_id, batch_id, event_id)
);

-- which batch completed_event currently describes
CREATE TABLE IF NOT EXISTS pgq_ext.partial_batch (
    consumer_id     text    NOT NULL,
    subconsumer_id  text    NOT NULL DEFAULT '',
    cur_batch_id    bigint  NOT NULL,
    CONSTRAINT partial_batch_pkey PRIMARY KEY (consumer_id, subconsumer_id)
);
