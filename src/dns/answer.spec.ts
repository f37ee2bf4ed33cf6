/**
 * SignedTwin: which signer's copy is served, and when a copy is made (on the query path by get(),
 * ahead by prepare()), through a re-signing and the swap.
 */
import { SignedTwin, prepared, type PreparedAnswer, type TwinSigner } from './answer';

type Step = 'get' | 'prepare' | `pending ${string}` | 'swap';

function run(steps: readonly Step[]): { served: string[]; made: string[] } {
  const signers = new Map<string, TwinSigner>();
  const signer = (name: string): TwinSigner => signers.get(name) ?? (signers.set(name, { name }).get(name) as TwinSigner);
  const zone: { signer: TwinSigner | null; pending: TwinSigner | null } = { signer: signer('A'), pending: null };
  const made: string[] = [];
  const twin = new SignedTwin(zone, (s) => {
    const name = (s as { name: string }).name;
    made.push(name);
    return prepared(0, true, { body: Buffer.from(name) }) as PreparedAnswer;
  });
  const served: string[] = [];
  for (const step of steps) {
    if (step === 'get') served.push(twin.get()!.body.toString());
    else if (step === 'prepare') twin.prepare();
    else if (step === 'swap') {
      zone.signer = zone.pending;
      zone.pending = null;
    } else zone.pending = signer(step.slice('pending '.length));
  }
  return { served, made };
}

describe('SignedTwin', () => {
  test.each<[string, Step[], string[], string[]]>([
    ['signed on first use when nothing was prepared', ['get', 'get'], ['A', 'A'], ['A']],
    ['prepared ahead: get signs nothing', ['prepare', 'get', 'prepare'], ['A'], ['A']],
    ['re-signing: the old copy served until the swap, then the prepared one', ['prepare', 'pending B', 'prepare', 'get', 'swap', 'get'], ['A', 'B'], ['A', 'B']],
    ['re-signing without prepare: signed on first use after the swap', ['get', 'pending B', 'swap', 'get'], ['A', 'B'], ['A', 'B']],
    ['two re-signings before it is asked: the copy for the serving signer is kept', ['prepare', 'pending B', 'prepare', 'swap', 'pending C', 'prepare', 'get', 'swap', 'get'], ['B', 'C'], ['A', 'B', 'C']],
  ])('%s', (_label, steps, served, made) => {
    expect(run(steps)).toEqual({ served, made });
  });
});
