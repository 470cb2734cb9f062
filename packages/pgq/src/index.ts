/**
 * @skytools/pgq: PgQ for applications (docs/consumer-api.md). Events are queued in the same
 * transaction as the data they describe; consumers read them in batches, each a consistent
 * snapshot of the queue between two ticks, and apply them exactly once.
 */
export { insertEvent, insertEvents, type NewEvent } from './producer.js';
export { QueueEvent, type Batch } from './queue-event.js';
export { type BatchHandler, type ConsumerOptions, type ConsumerStats } from './batch-loop.js';
export { Consumer } from './consumer.js';
export { RemoteConsumer, type RemoteConsumerOptions } from './remote-consumer.js';
export { CascadedConsumer, type CascadedConsumerOptions } from './cascaded-consumer.js';
