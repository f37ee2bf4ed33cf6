/**
 * Fills the routing tables ahead of queries, off the hot path: every record of the geo database
 * mapped to its location class (GeoClassifier.fill), then every class's region ranking
 * (DnsResponder.fillRanking). Work runs in slices of about a millisecond with pauses between them,
 * so DNS and the API keep answering meanwhile; whatever a query needs before the fill has
 * reached it is computed for that query (about a microsecond a row) and kept.
 *
 * `start()` after a snapshot or a database change: a new classifier restarts the database walk,
 * and the ranking walk resumes from where the responder's current ranking stands.
 */
import type { GeoClassifier } from '../geo/geo-classifier';
import type { DnsResponder } from './responder';
import { SlicedWork } from './sliced-work';

const CLASSIFIER_STEP = 256;
const RANKING_STEP = 64;

export class TableFiller extends SlicedWork {
  constructor(
    private readonly classifier: () => GeoClassifier,
    private readonly responder: DnsResponder,
    onDone?: (ms: number) => void,
  ) {
    super(onDone);
  }

  protected step(): boolean {
    const classified = this.classifier().fill(CLASSIFIER_STEP);
    const ranked = this.responder.fillRanking(RANKING_STEP);
    return classified && ranked;
  }
}
