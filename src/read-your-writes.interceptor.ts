import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { Observable, mergeMap } from 'rxjs';
import { SnapshotStore } from './snapshot/snapshot.store';

/**
 * Read-your-writes for the admin API: a successful change (POST, PUT, PATCH, DELETE under /v1)
 * answers only once the routing snapshot that includes it is in place, so the next DNS query,
 * redirect or explain after the response already sees it (with DNS_WORKERS: once every worker
 * answers with it too, SnapshotStore.followWith).
 *
 * Registered for the whole application beside app.module.ts: it reads the snapshot store, which
 * sits above common/ (where it used to be) in the import floors.
 */
@Injectable()
export class ReadYourWritesInterceptor implements NestInterceptor {
  constructor(private readonly snapshots: SnapshotStore) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    if (req.method === 'GET' || req.method === 'HEAD' || !req.originalUrl?.startsWith('/v1/')) return next.handle();
    return next.handle().pipe(
      mergeMap(async (body) => {
        // The write's event already started (or joined) the rebuild that includes it, or made the
        // change directly (health); forcing another rebuild here cost a whole registry build per
        // health webhook.
        await this.snapshots.settled();
        return body;
      }),
    );
  }
}
