/** Where release reports live in the artifacts bucket; the stack grants record-outcome PutObject under this prefix only. */
export const REPORTS_PREFIX = 'reports/';

/** A release's report: `reports/<service>/<version>.html`. */
export const reportKey = (service: string, version: string): string => `${REPORTS_PREFIX}${service}/${version}.html`;
