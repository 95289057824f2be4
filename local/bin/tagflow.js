#!/usr/bin/env node
// The tagflow CLI: runs the TypeScript sources through tsx (installed with the package).
import { register } from 'tsx/esm/api';

register();
await import('../cli/tagflow.ts');
