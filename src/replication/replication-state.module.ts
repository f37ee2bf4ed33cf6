import { Global, Module } from '@nestjs/common';
import { ReplicationLagStore } from './lag.store';

/**
 * The replication lag store, global so that the health webhook can hand reports to it without the
 * health module importing the replication module (which imports the health module).
 */
@Global()
@Module({ providers: [ReplicationLagStore], exports: [ReplicationLagStore] })
export class ReplicationStateModule {}
