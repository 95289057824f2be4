import type { Clock } from '../../lambdas/lib/ports.js';

/**
 * The runtime's clock: a base clock (the system's, or one a test injects) plus simulated time.
 * A compressed Wait that waits *until* a timestamp (a deployment window) moves this clock to
 * that timestamp, so what runs after it sees the time it waited for, as in AWS after real hours.
 * It only ever moves forward. Every execution of the runtime shares it, as they share the world.
 */
export class SimulatedClock implements Clock {
  private offsetMs = 0;

  constructor(private readonly base: Clock) {}

  now(): Date {
    return new Date(this.base.now().getTime() + this.offsetMs);
  }

  sleep(ms: number): Promise<void> {
    return this.base.sleep(ms);
  }

  /** Jumps to `instant` if it is ahead; returns how far it jumped, in ms. */
  advanceTo(instant: Date): number {
    const ahead = instant.getTime() - this.now().getTime();
    if (ahead > 0) this.offsetMs += ahead;
    return Math.max(0, ahead);
  }
}
