import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { call } from './transient.js';

/** Puts events on the pipeline's bus; a partial failure is an error (nothing is silently dropped). */
export class EventBus {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async put(entries: { Source: string; DetailType: string; Detail: unknown }[]): Promise<void> {
    const res = await call('EventBridge PutEvents', () =>
      this.client.send(new PutEventsCommand({ Entries: entries.map((e) => ({ EventBusName: this.busName, Source: e.Source, DetailType: e.DetailType, Detail: JSON.stringify(e.Detail) })) })),
    );
    if (res.FailedEntryCount) {
      const why = (res.Entries ?? []).filter((e) => e.ErrorCode).map((e) => `${e.ErrorCode}: ${e.ErrorMessage}`).join('; ');
      throw new Error(`EventBridge refused ${res.FailedEntryCount} of ${entries.length} events: ${why}`);
    }
  }
}
