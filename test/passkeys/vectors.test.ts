/**
 * The WebAuthn vector suites (vectors.cases.ts) need ../shared/vectors; without it they are
 * skipped with a message (and fail under CI=true).
 */
import { test } from 'node:test';
import { sharedVectorsUnavailable } from '../support/shared-vectors.ts';

const unavailable = sharedVectorsUnavailable();
if (unavailable) test('WebAuthn vectors', { skip: unavailable }, () => {});
else await import('./vectors.cases.ts');
