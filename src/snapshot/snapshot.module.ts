import { Global, Module } from '@nestjs/common';
import { SnapshotStore } from './snapshot.store';

/** The one immutable RoutingSnapshot, rebuilt from the registry and health on change events. */
@Global()
@Module({ providers: [SnapshotStore], exports: [SnapshotStore] })
export class SnapshotModule {}
