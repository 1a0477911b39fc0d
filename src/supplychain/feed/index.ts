/** The known-malicious npm feed: the bundled Datadog-derived list, user feeds and OSV imports. */
export { FEED_FORMAT, parseFeedDocument } from './feed-types.js';
export type { FeedAdvisory, FeedDocument, FeedHit, FeedSource } from './feed-types.js';
export {
  USER_FEED_FILE,
  feedFromDocuments,
  knownMaliciousSignal,
  loadFeed,
  writeFeed,
} from './feed-store.js';
export type { LoadFeedOptions, MaliciousFeed } from './feed-store.js';
export { importOsvDirectory } from './feed-osv.js';
export type { OsvImportOptions, OsvImportResult, SkippedOsvFile } from './feed-osv.js';
