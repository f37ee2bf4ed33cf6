/** Messages between AnycastWorker (main process) and anycast.worker.ts (its child): plain, structured-clone data. */
import type { Site, SiteProblem, TopologyProblem, TopologySummary } from '../routing/bgp';

/** Simulation results the worker keeps, by their inputs (the oldest dropped first). */
export const MAX_CACHED_RESULTS = 8;

export type WorkerRequest =
  /**
   * The topology's bytes (UTF-8 text, or its gzip when `compressed`): in the pieces they arrived in
   * (joined by the worker), or in `file` (a large upload, written there by the client; the worker
   * only reads it); with `keep`, the reply also carries the gzip of the text, for the database: in
   * `compressed`, or for a `file` request in `compressedFile` (written beside `file`).
   */
  | { readonly id: number; readonly op: 'parse'; readonly format: 'json' | 'caida'; readonly chunks?: readonly Uint8Array[]; readonly file?: string; readonly compressed: boolean; readonly keep: boolean }
  | { readonly id: number; readonly op: 'commit' | 'discard' }
  | { readonly id: number; readonly op: 'simulate'; readonly sites: readonly Site[]; readonly withdrawn: readonly string[]; readonly clients: readonly number[] };

/** What a request without its id is (the client numbers them). */
export type WorkerCommand = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface RouteView {
  readonly asn: number;
  readonly status: string;
  readonly region: string | null;
  readonly asPath: number[] | null;
  readonly reason: string | null;
  readonly learnedFrom: string | null;
}

export interface SimulationView {
  readonly announced: boolean[];
  readonly catchments: unknown;
  readonly reached: number;
  readonly unreachable: number;
  readonly unreachableAsns: readonly number[];
  readonly convergence: unknown;
  readonly efficiency: unknown;
  readonly geoDnsAgreement: number;
  readonly routes: RouteView[];
}

export type WorkerFailure =
  | { readonly id: number; readonly ok: false; readonly kind: 'topology'; readonly problems: TopologyProblem[]; readonly problemCount: number }
  | { readonly id: number; readonly ok: false; readonly kind: 'site'; readonly problems: SiteProblem[] }
  | { readonly id: number; readonly ok: false; readonly kind: 'no-topology' }
  | { readonly id: number; readonly ok: false; readonly kind: 'error'; readonly message: string };

export type WorkerReply =
  | ({ readonly id: number; readonly ok: true } & Partial<SimulationView> & { readonly summary?: TopologySummary; readonly compressed?: Uint8Array; readonly compressedFile?: string })
  | WorkerFailure;
