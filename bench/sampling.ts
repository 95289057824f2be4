/** The generators live with the judge, whose planner simulates with them too. */
export * from '../lambdas/lib/judge/sampling.js';
