/**
 * TableFiller: every record of the database gets its class and every located class its ranking
 * row, in slices between other events.
 */
import { GeoLocator } from '../geo/geo-locator';
import { DnsResponder } from './responder';
import { TableFiller } from './table-filler';
import { GEOIP_TEST_DB, fixtureSnapshot } from './test-fixtures';

describe('TableFiller', () => {
  it('maps the whole database and ranks every located class', async () => {
    const locator = await GeoLocator.open(GEOIP_TEST_DB);
    const responder = new DnsResponder({ classifier: () => locator.classifier });
    responder.setSnapshot(fixtureSnapshot());
    const done = new Promise<number>((resolve) => new TableFiller(() => locator.classifier, responder, resolve).start());
    const ms = await done;
    expect(ms).toBeGreaterThanOrEqual(0);
    const classifier = locator.classifier;
    expect(classifier.mappedRecords).toBeGreaterThan(10);
    const stats = responder.stats();
    expect(stats.locationClasses).toBe(classifier.classes.size);
    let located = 0;
    for (let c = 0; c < classifier.classes.size; c++) if (classifier.classes.hasCoordinates(c)) located++;
    expect(stats.rankedClasses).toBe(located);
    // Nothing left to do: a second pass finds every record and row in place.
    expect(classifier.fill(1)).toBe(true);
    expect(responder.fillRanking(1)).toBe(true);
  });
});
