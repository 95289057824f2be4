import type { EnvironmentConfig, ServiceConfig, TargetConfig } from './config.js';

/** The deploy target an environment uses: its own, or its service's. (Kept apart from config.ts so steps need not bundle the schema library.) */
export const targetFor = (svc: ServiceConfig, env: EnvironmentConfig): TargetConfig => env.target ?? svc.target;

/** A config template (`functionName`, `imageRepository`, metric dimensions, smoke URLs) with `{service}` and `{environment}` filled in. */
export const fillNames = (template: string, at: { service: string; environment: string }): string =>
  template.replaceAll('{service}', at.service).replaceAll('{environment}', at.environment);
