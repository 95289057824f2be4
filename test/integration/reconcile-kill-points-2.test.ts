import { describe, it } from 'vitest';
import { killPoints } from '../support/crash-injection.js';

/** Issue 12's crash injection at every state of the release machine, in two files that run at once: kill points 2 of every 2. */
describe('crash injection: a release stopped at every state of the release machine, then reconciled', () => {
  it('keeps every invariant after each kill point (shard 2 of 2), and the next release of a new version succeeds', () => killPoints({ index: 1, of: 2 }), 900_000);
});
