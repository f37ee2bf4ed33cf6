import { Inject, Injectable, Logger } from '@nestjs/common';
import { RegistryRepository } from './registry.repository';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import * as fs from 'node:fs';
import { DataSource, EntityManager } from 'typeorm';
import { parse as parseYaml } from 'yaml';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DomainError, FieldProblem } from '../common/domain-error';
import { flattenValidationErrors } from '../common/validation';
import type { ConfigDocument } from './config-document';
import { CreateRecordDto, CreateZoneDto } from './dto/zone.dto';
import { CreateRegionDto } from './dto/region.dto';
import { CreateServiceDto } from './dto/service.dto';
import { ZonesService } from './zones.service';
import { RegionsService } from './regions.service';
import { ServicesService } from './services.service';
import { ZoneEntity } from './zone.entity';
import { RegionEntity } from './region.entity';
import { ServiceEntity } from './service.entity';
import { EventBus, REGISTRY_CHANGED } from '../common/events';

const SEED_LOCK = 0x67656f7365656400n; // "geoseed\0"

export class ConfigFileError extends Error {}

/**
 * Applies a configuration document to an EMPTY registry, in one transaction, with the API's own
 * validation. Used at start for config/demo.yaml (or CONFIG_FILE).
 */
@Injectable()
export class ConfigLoaderService {
  private readonly logger = new Logger('config');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ds: DataSource,
    private readonly zones: ZonesService,
    private readonly regions: RegionsService,
    private readonly services: ServicesService,
    private readonly events: EventBus,
  ) {}

  /** Loads CONFIG_FILE (default config/demo.yaml) when the registry is empty. Returns whether it loaded. */
  async seedIfEmpty(): Promise<boolean> {
    const file = this.config.configFile;
    if (!file) return false;
    let doc: ConfigDocument;
    try {
      doc = (parseYaml(fs.readFileSync(file, 'utf8')) ?? {}) as ConfigDocument;
    } catch (err) {
      throw new ConfigFileError(`cannot read configuration file ${file}: ${(err as Error).message}`);
    }
    const loaded = await this.ds.transaction(async (m) => {
      await RegistryRepository.lockForSeeding(m, SEED_LOCK);
      // One after another: a transaction is one connection, and pg refuses queries sent while one runs (pg 9).
      const counts = [await m.count(ZoneEntity), await m.count(RegionEntity), await m.count(ServiceEntity)];
      if (counts.some((c) => c > 0)) return false;
      try {
        await this.apply(m, doc);
      } catch (err) {
        if (err instanceof DomainError) throw new ConfigFileError(`configuration file ${file}: ${err.message}`);
        throw err;
      }
      return true;
    });
    if (loaded) {
      this.logger.log(`loaded ${file} into the empty database`);
      this.events.emit(REGISTRY_CHANGED, { kind: 'import', name: file });
    }
    return loaded;
  }

  /** Creates everything in the document inside the caller's transaction. */
  async apply(m: EntityManager, doc: ConfigDocument): Promise<void> {
    for (const [i, z] of (doc.zones ?? []).entries()) {
      const { records, ...zone } = z;
      await this.zones.create(await this.check(CreateZoneDto, zone, `zones[${i}]`), m);
      for (const [j, r] of (records ?? []).entries()) {
        await this.zones.addRecord(String(zone.name), await this.check(CreateRecordDto, r, `zones[${i}].records[${j}]`), m);
      }
    }
    for (const [i, r] of (doc.regions ?? []).entries()) {
      await this.regions.create(await this.check(CreateRegionDto, r, `regions[${i}]`), m);
    }
    for (const [i, s] of (doc.services ?? []).entries()) {
      await this.services.create(await this.check(CreateServiceDto, s, `services[${i}]`), m);
    }
  }

  private async check<T extends object>(cls: new () => T, plain: unknown, where: string): Promise<T> {
    const dto = plainToInstance(cls, plain);
    const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
    if (errors.length > 0) {
      const problems: FieldProblem[] = flattenValidationErrors(errors).map((p) => ({ ...p, field: `${where}.${p.field}` }));
      throw DomainError.validation(problems);
    }
    return dto;
  }
}
