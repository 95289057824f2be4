/** The freeze core lives with the functions that also declare freezes in AWS (lambdas/lib/freezes.ts). */
export { describeFreeze, freeze, FreezeInputError, inForce, parseFreeze, unfreeze, type FreezeFlags } from '../../lambdas/lib/freezes.js';
