import { Module } from '@nestjs/common';
import { ChangeFeedService } from './change-feed.service';
import { ClusterRepository } from './cluster.repository';
import { InstancesController } from './instances.controller';
import { InstancesService } from './instances.service';

/** Many instances over one PostgreSQL: the change feed (LISTEN/NOTIFY + polling) and the instance list. */
@Module({ controllers: [InstancesController], providers: [ClusterRepository, ChangeFeedService, InstancesService], exports: [ChangeFeedService, InstancesService] })
export class ClusterModule {}
