-- PgQ tables. Idempotent: safe to run over an existing installation.
--
--   pgq.queue           one row per queue: settings and rotation state
--   pgq.consumer        consumer names
--   pgq.subscription    which consumer reads which queue, and where it stands
--   pgq.tick            per-queue snapshots; a batch is the events between two ticks
--   pgq.event_template  parent of every queue's event tables pgq.event_N(_0.._2)
--   pgq.retry_queue     events postponed by a consumer, re-inserted when due
--
-- Names of tables, columns, constraints and sequences match PgQ 3.5 so that existing
-- consumers and admin queries keep working.

CREATE SCHEMA IF NOT EXISTS pgq;

CREATE TABLE IF NOT EXISTS pgq.consumer (
    co_id       serial,
    co_name     text        NOT NULL,
    CONSTRAINT consumer_pkey PRIMARY KEY (co_id),
    CONSTRAINT consumer_name_uq UNIQUE (co_name)
);

-- queue_data_pfx names the parent event table; its children carry _0 .. _<ntables-1>.
-- queue_switch_step1/2 bracket the transaction that rotated tables (step2 is filled in once that
-- transaction is known to be committed), which is what lets readers pick the tables to scan.
CREATE TABLE IF NOT EXISTS pgq.queue (
    queue_id                    serial,
    queue_name                  text        NOT NULL,
    queue_ntables               integer     NOT NULL DEFAULT 3,
    queue_cur_table             integer     NOT NULL DEFAULT 0,
    queue_rotation_period       interval    NOT NULL DEFAULT '2 hours',
    queue_switch_step1          bigint      NOT NULL DEFAULT txid_current(),
    queue_switch_step2          bigint               DEFAULT txid_current(),
    queue_switch_time           timestamptz NOT NULL DEFAULT now(),
    queue_external_ticker       boolean     NOT NULL DEFAULT false,
    queue_disable_insert        boolean     NOT NULL DEFAULT false,
    queue_ticker_paused         boolean     NOT NULL DEFAULT false,
    queue_ticker_max_count      integer     NOT NULL DEFAULT 500,
    queue_ticker_max_lag        interval    NOT NULL DEFAULT '3 seconds',
    queue_ticker_idle_period    interval    NOT NULL DEFAULT '1 minute',
    queue_per_tx_limit          integer,
    queue_data_pfx              text        NOT NULL,
    queue_event_seq             text        NOT NULL,
    queue_tick_seq              text        NOT NULL,
    queue_extra_maint           text[],
    CONSTRAINT queue_pkey PRIMARY KEY (queue_id),
    CONSTRAINT queue_name_uq UNIQUE (queue_name)
);

-- tick_event_seq is the queue's event sequence position at tick time: a cheap upper bound of
-- how many events a batch may hold (never an exact count).
CREATE TABLE IF NOT EXISTS pgq.tick (
    tick_queue      int4            NOT NULL,
    tick_id         bigint          NOT NULL,
    tick_time       timestamptz     NOT NULL DEFAULT now(),
    tick_snapshot   txid_snapshot   NOT NULL DEFAULT txid_current_snapshot(),
    tick_event_seq  bigint          NOT NULL,
    CONSTRAINT tick_pkey PRIMARY KEY (tick_queue, tick_id),
    CONSTRAINT tick_queue_fkey FOREIGN KEY (tick_queue) REFERENCES pgq.queue (queue_id)
);

CREATE SEQUENCE IF NOT EXISTS pgq.batch_id_seq;

-- sub_last_tick: the consumer has processed everything up to this tick.
-- sub_batch / sub_next_tick: the batch currently open (NULL when none).
CREATE TABLE IF NOT EXISTS pgq.subscription (
    sub_id          serial      NOT NULL,
    sub_queue       int4        NOT NULL,
    sub_consumer    int4        NOT NULL,
    sub_last_tick   bigint,
    sub_active      timestamptz NOT NULL DEFAULT now(),
    sub_batch       bigint,
    sub_next_tick   bigint,
    CONSTRAINT subscription_pkey PRIMARY KEY (sub_queue, sub_consumer),
    CONSTRAINT subscription_batch_idx UNIQUE (sub_batch),
    CONSTRAINT sub_queue_fkey FOREIGN KEY (sub_queue) REFERENCES pgq.queue (queue_id),
    CONSTRAINT sub_consumer_fkey FOREIGN KEY (sub_consumer) REFERENCES pgq.consumer (co_id)
);

-- ev_owner/ev_retry are NULL for fresh events; a retried event belongs to one subscription.
CREATE TABLE IF NOT EXISTS pgq.event_template (
    ev_id       bigint      NOT NULL,
    ev_time     timestamptz NOT NULL,
    ev_txid     bigint      NOT NULL DEFAULT txid_current(),
    ev_owner    int4,
    ev_retry    int4,
    ev_type     text,
    ev_data     text,
    ev_extra1   text,
    ev_extra2   text,
    ev_extra3   text,
    ev_extra4   text
);

CREATE TABLE IF NOT EXISTS pgq.retry_queue (
    ev_retry_after  timestamptz NOT NULL,
    ev_queue        int4        NOT NULL,
    LIKE pgq.event_template,
    CONSTRAINT rq_pkey PRIMARY KEY (ev_owner, ev_id),
    CONSTRAINT rq_queue_id_fkey FOREIGN KEY (ev_queue) REFERENCES pgq.queue (queue_id)
);
-- a retry row keeps the txid of the retrying batch only as history; re-insertion gets a new one
ALTER TABLE pgq.retry_queue ALTER COLUMN ev_txid DROP NOT NULL;
CREATE INDEX IF NOT EXISTS rq_retry_idx ON pgq.retry_queue (ev_retry_after);

-- Events a consumer gave up on (pgq.event_failed), kept with the reason until someone retries or
-- deletes them. Not in PgQ 3 (Skytools 2's pgq had it, under the same name and functions): the
-- consumer records the failure in the batch's transaction instead of skipping the event silently.
CREATE TABLE IF NOT EXISTS pgq.failed_queue (
    ev_failed_reason    text        NOT NULL,
    ev_failed_time      timestamptz NOT NULL,
    ev_queue            int4        NOT NULL,
    LIKE pgq.event_template,
    CONSTRAINT fq_pkey PRIMARY KEY (ev_owner, ev_id),
    CONSTRAINT fq_queue_id_fkey FOREIGN KEY (ev_queue) REFERENCES pgq.queue (queue_id)
);
ALTER TABLE pgq.failed_queue ALTER COLUMN ev_txid DROP NOT NULL;

-- Capture functions written by pgq.generate_capture_trigger, one per queue and table, with what
-- they were written for: rotations, queue settings and DDL rewrite them from here.
CREATE TABLE IF NOT EXISTS pgq.capture_function (
    cf_queue_id     int4    NOT NULL,
    cf_table        oid     NOT NULL,
    cf_trigger_name text    NOT NULL,
    cf_args         text[]  NOT NULL DEFAULT '{}',
    cf_format       text    NOT NULL,
    cf_function     text    NOT NULL,
    cf_signature    text    NOT NULL,
    CONSTRAINT capture_function_pkey PRIMARY KEY (cf_queue_id, cf_table),
    CONSTRAINT cf_queue_fkey FOREIGN KEY (cf_queue_id) REFERENCES pgq.queue (queue_id) ON DELETE CASCADE
);
