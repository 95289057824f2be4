import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { EventPublisher } from '../../lib/ports.js';
import { once } from '../../lib/step-handler.js';
import { EventBus } from '../event-bus.js';
import { requireEnv } from './env.js';

/** The pipeline bus (EVENT_BUS_NAME, set by the stack on the functions that put events). */
export const events = once((): EventPublisher => new EventBus(new EventBridgeClient({}), requireEnv('EVENT_BUS_NAME')));
