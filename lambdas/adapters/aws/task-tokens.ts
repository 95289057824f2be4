import { SFNClient } from '@aws-sdk/client-sfn';
import type { TaskTokens } from '../../lib/ports.js';
import { once } from '../../lib/step-handler.js';
import { SfnTaskTokens } from '../sfn-task-tokens.js';

export const taskTokens = once((): TaskTokens => new SfnTaskTokens(new SFNClient({})));
