import { SetMetadata } from '@nestjs/common';

export const CACHED_READ = 'georoute:cached-read';

/**
 * Marks a GET route whose answer depends only on the registry (zones, records, regions, services)
 * and region health: src/read-cache.ts keeps its serialised answer per URL and answers repeats in
 * front of Express until a write, a registry, health or replication change, another instance's
 * change, or READ_CACHE_MAX_AGE_MS.
 */
export const CachedRead = (): MethodDecorator => SetMetadata(CACHED_READ, true);
