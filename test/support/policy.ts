/** The deployment policy the README shows: prod open on weekdays 09:00–16:00 in Berlin, frozen over the year's end. */
export const SAMPLE_POLICY = {
  timezone: 'Europe/Berlin',
  windows: [{ environments: ['prod'], days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '16:00' }],
  freezes: [{ name: 'year-end', from: '2026-12-21T00:00:00Z', to: '2027-01-04T00:00:00Z', environments: ['prod'] }],
  approvers: ['alice', 'bob', 'carol'],
  maxWaitHours: 72,
  approvalTimeoutHours: 24,
};
