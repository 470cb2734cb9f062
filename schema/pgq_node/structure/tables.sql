-- pgq_node: cascading of a PgQ queue over several databases (nodes).
--
--   node_location    every node of the cascade and how to reach it
--   node_info        this database's own node for a queue (root, branch or leaf)
--   local_state      consumers on this node and how far they got in their provider's queue
--   subscriber_info  nodes that read this node's queue
CREATE SCHEMA IF NOT EXISTS pgq_node;

CREATE TABLE IF NOT EXISTS pgq_node.node_location (
    queue_name      text    NOT NULL,
    node_name       text    NOT NULL,
    node_location   text    NOT NULL,
    dead            boolean NOT NULL DEFAULT false,
    CONSTRAINT node_location_pkey PRIMARY KEY (queue_name, node_name)
);

-- a worker is needed on every node type; only leaves may merge into a combined queue
CREATE TABLE IF NOT EXISTS pgq_node.node_info (
    queue_name      text NOT NULL,
    node_type       text NOT NULL,
    node_name       text NOT NULL,
    worker_name     text,
    combined_queue  text,
    node_attrs      text,
    CONSTRAINT node_info_pkey PRIMARY KEY (queue_name),
    CONSTRAINT node_info_queue_name_fkey FOREIGN KEY (queue_name, node_name) REFERENCES pgq_node.node_location,
    CONSTRAINT node_info_node_type_check CHECK (node_type IN ('root', 'branch', 'leaf')),
    CONSTRAINT node_info_check CHECK (worker_name IS NOT NULL AND (node_type = 'leaf' OR combined_queue IS NULL))
);

-- last_tick_id: the provider tick whose batch this consumer has applied here (in the same
-- transaction as the data)
CREATE TABLE IF NOT EXISTS pgq_node.local_state (
    queue_name      text    NOT NULL,
    consumer_name   text    NOT NULL,
    provider_node   text    NOT NULL,
    last_tick_id    bigint  NOT NULL,
    cur_error       text,
    paused          boolean NOT NULL DEFAULT false,
    uptodate        boolean NOT NULL DEFAULT false,
    CONSTRAINT local_state_pkey PRIMARY KEY (queue_name, consumer_name),
    CONSTRAINT local_state_queue_name_fkey FOREIGN KEY (queue_name) REFERENCES pgq_node.node_info,
    CONSTRAINT local_state_queue_name_fkey1 FOREIGN KEY (queue_name, provider_node) REFERENCES pgq_node.node_location
);

-- watermark_name: a PgQ consumer that only marks how far the subscriber's subtree has got,
-- so the queue keeps what that subtree still needs
CREATE TABLE IF NOT EXISTS pgq_node.subscriber_info (
    queue_name          text NOT NULL,
    subscriber_node     text NOT NULL,
    worker_name         text NOT NULL,
    watermark_name      text NOT NULL,
    CONSTRAINT subscriber_info_pkey PRIMARY KEY (queue_name, subscriber_node),
    CONSTRAINT subscriber_info_queue_name_fkey FOREIGN KEY (queue_name) REFERENCES pgq_node.node_info,
    CONSTRAINT subscriber_info_queue_name_fkey1 FOREIGN KEY (queue_name, subscriber_node) REFERENCES pgq_node.node_location,
    CONSTRAINT subscriber_info_worker_name_fkey FOREIGN KEY (worker_name) REFERENCES pgq.consumer (co_name),
    CONSTRAINT subscriber_info_watermark_name_fkey FOREIGN KEY (watermark_name) REFERENCES pgq.consumer (co_name)
);
