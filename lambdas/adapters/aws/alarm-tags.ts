import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { AlarmTags } from '../../lib/ports.js';
import { once } from '../../lib/step-handler.js';
import { CloudWatchAlarmTags } from '../cloudwatch-alarm-tags.js';

/** The alarm-tag reader of normalise-rollback, made on first use. */
export const alarmTags = once((): AlarmTags => new CloudWatchAlarmTags(new CloudWatchClient({})));
