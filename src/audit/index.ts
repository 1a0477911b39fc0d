/** The audit capability's public surface: append to, stream and verify the hash-chained event log. */
export {
  appendEvent,
  appendEvents,
  checkEvents,
  readEventStream,
  verifyEventLog,
  MAX_EVENT_BATCH,
  RENUMBER_WINDOW,
  type EventAppender,
  type EventReader,
  type EventStreamOptions,
  type EventLogVerification,
  type EventLogProblem,
  type EventLogProblemKind,
} from './audit-log.js';
export { createEventBatcher, type EventBatcher, type EventBatcherOptions } from './event-batcher.js';
