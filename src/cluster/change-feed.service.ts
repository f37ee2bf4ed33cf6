import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DatabaseStatus } from '../database/database-status';
import { ClusterRepository } from './cluster.repository';
import { CLUSTER_CHANGED, EventBus, REGISTRY_CHANGED } from '../common/events';
import { OwnVersions } from './own-versions';

/**
 * How changes made through one instance reach every other: each committed change bumps
 * registry_version and NOTIFYs 'georoute_changes' (triggers, migration ChangeFeed). This service
 * LISTENs on a dedicated connection (reconnecting with backoff, and re-reading the version after
 * each reconnect, since notifications sent while disconnected are lost), and also polls the
 * version every CHANGE_POLL_INTERVAL_MS — the fallback for lost notifications and for
 * PostgreSQL-compatible databases without LISTEN. A new version triggers a full rebuild, unless
 * every version since the last one seen was produced by this instance's own transactions: each
 * of those emitted REGISTRY_CHANGED when it committed and is in the snapshot already (every
 * writer of the registry tables does; see OwnCommits below), so re-reading the whole registry
 * for it would only stall this instance (10,000 services of rows for one PATCH).
 */
@Injectable()
export class ChangeFeedService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('cluster');
  private listener: Client | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private backoffMs = 500;
  private stopped = false;
  private polling = false;
  /** The registry version this instance's snapshot reflects (-1: not read yet). */
  seenVersion = -1;
  /** The health version (health transitions) last read (-1: not read yet). */
  seenHealthVersion = -1;
  listening = false;
  /** Versions this instance's own transactions committed, not yet passed by the feed. */
  readonly own = new OwnVersions();
  /** Own full reloads skipped (metrics and tests). */
  skipped = 0;

  private readonly commits = new OwnCommits(this.own);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ds: DataSource,
    private readonly dbStatus: DatabaseStatus,
    private readonly events: EventBus,
    private readonly repository: ClusterRepository,
  ) {}

  onModuleInit(): void {
    this.dbStatus.whenConnected(this.ds, async () => {
      if (!this.ds.subscribers.includes(this.commits)) this.ds.subscribers.push(this.commits);
      [this.seenVersion, this.seenHealthVersion] = await this.readVersions();
      this.schedulePoll();
      if (this.config.databaseUrl !== null) void this.listen();
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const l = this.listener;
    this.listener = null;
    await l?.end().catch(() => undefined);
  }

  /** [registry version, health version]. */
  private readVersions(): Promise<[number, number]> {
    return this.repository.versions();
  }

  /**
   * Re-reads the versions. A new registry version means a full rebuild; a new health version
   * alone (a health transition anywhere) means the health verdicts are re-read, nothing else.
   */
  private async check(why: string): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const [version, healthVersion] = await this.readVersions();
      if (version !== this.seenVersion && this.own.onlyOwnBetween(this.seenVersion, version)) {
        this.seenVersion = version;
        this.skipped++;
        this.logger.debug(`registry version ${version} (${why}): this instance's own change, already applied`);
        if (healthVersion !== this.seenHealthVersion) {
          this.seenHealthVersion = healthVersion;
          this.events.emit(CLUSTER_CHANGED, { version });
        }
      } else if (version !== this.seenVersion) {
        this.seenVersion = version;
        this.seenHealthVersion = healthVersion;
        this.logger.debug(`registry version ${version} (${why}): rebuilding`);
        this.events.emit(CLUSTER_CHANGED, { version });
        this.events.emit(REGISTRY_CHANGED, { kind: 'import', name: `registry version ${version}` });
      } else if (healthVersion !== this.seenHealthVersion) {
        this.seenHealthVersion = healthVersion;
        this.logger.debug(`health version ${healthVersion} (${why}): re-reading health verdicts`);
        this.events.emit(CLUSTER_CHANGED, { version });
      }
    } catch {
      // Database unreachable: the next poll tries again; DNS keeps the last snapshot.
    } finally {
      this.polling = false;
    }
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    this.pollTimer = setTimeout(async () => {
      await this.check('poll');
      this.schedulePoll();
    }, this.config.changePollIntervalMs);
    this.pollTimer.unref();
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.config.databaseUrl!, application_name: `georoute-listener:${this.config.instanceId}` });
    client.on('error', () => undefined);
    client.on('end', () => this.lost(client));
    client.on('notification', () => void this.check('notify'));
    try {
      await client.connect();
      await ClusterRepository.listenForChanges(client);
      this.listener = client;
      this.listening = true;
      this.backoffMs = 500;
      // Notifications sent while we were away are lost: resync by version.
      await this.check('listen');
    } catch {
      await client.end().catch(() => undefined);
      this.lost(client);
    }
  }

  private lost(client: Client): void {
    if (this.listener === client) this.listener = null;
    this.listening = false;
    if (this.stopped || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.listen();
    }, this.backoffMs);
    this.reconnectTimer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
  }
}

/**
 * Notes the registry version each of this instance's committed transactions produced: read on the
 * transaction's own connection just before COMMIT, recorded once COMMIT succeeded (a rolled-back
 * transaction's version was never produced, and another writer will reuse the number).
 */
class OwnCommits implements EntitySubscriberInterface {
  private readonly pending = new WeakMap<QueryRunner, number>();

  constructor(private readonly own: OwnVersions) {}

  async beforeTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    // Never in the way of the commit: without the version the feed merely reloads, as it would for another writer.
    const version = await ClusterRepository.versionOfThisTransaction(event.queryRunner).catch(() => null);
    if (version === null) this.pending.delete(event.queryRunner);
    else this.pending.set(event.queryRunner, version);
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    // A savepoint released inside an outer transaction is not a commit yet.
    if (event.queryRunner.isTransactionActive) return;
    const version = this.pending.get(event.queryRunner);
    this.pending.delete(event.queryRunner);
    if (version !== undefined) this.own.add(version);
  }
}
