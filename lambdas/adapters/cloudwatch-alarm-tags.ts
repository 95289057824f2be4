import { ListTagsForResourceCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { AlarmTags } from '../lib/ports.js';
import { call } from './transient.js';

/**
 * An alarm's tags from CloudWatch (`ListTagsForResource` on the alarm's ARN, which the stack
 * lets only normalise-rollback call). A deleted alarm answers ResourceNotFound: no tags.
 */
export class CloudWatchAlarmTags implements AlarmTags {
  constructor(private readonly cloudwatch: CloudWatchClient) {}

  async tagsOf(alarmArn: string): Promise<Record<string, string> | undefined> {
    try {
      const res = await call('CloudWatch ListTagsForResource', () => this.cloudwatch.send(new ListTagsForResourceCommand({ ResourceARN: alarmArn })));
      const tags: Record<string, string> = {};
      for (const t of res.Tags ?? []) if (t.Key !== undefined && t.Value !== undefined) tags[t.Key] = t.Value;
      return tags;
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'ResourceNotFoundException' || name === 'ResourceNotFound') return undefined;
      throw err;
    }
  }
}
