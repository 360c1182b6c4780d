import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { SHARED_VECTORS, sharedVectorsUnavailable } from '../support/shared-vectors.ts';

const root = new URL('../../', import.meta.url);
const doc = readFileSync(new URL('docs/standards.md', root), 'utf8');
const REFERENCE = /`((?:test|src)\/[\w./-]+\.test\.ts)`: "([^"]+)"/g;

/** The ASVS CSV's requirement ids of one chapter (column `req_id`), read where the vectors live. */
function asvsRequirements(chapter: string): string[] {
  const csv = readFileSync(new URL('OWASP_ASVS_5.0.0_en.csv', SHARED_VECTORS), 'utf8');
  const ids = new Set<string>();
  for (const match of csv.matchAll(new RegExp(`^${chapter},[^\\n]*?,(${chapter}\\.\\d+\\.\\d+),`, 'gm')))
    ids.add(match[1]!);
  return [...ids];
}

describe('docs/standards.md', () => {
  test('every test it names exists', () => {
    const references = [...doc.matchAll(REFERENCE)];
    assert.ok(references.length > 40);
    for (const [, file, title] of references) {
      const path = new URL(file!, root);
      assert.ok(existsSync(path), `${file} exists`);
      assert.ok(readFileSync(path, 'utf8').includes(`'${title}`), `${file} has a test titled "${title}…"`);
    }
  });

  test('every OWASP ASVS 5.0 V10 requirement has a row, with a test unless it is not met or not applicable', {
    skip: sharedVectorsUnavailable() ?? false,
  }, () => {
    const requirements = asvsRequirements('V10');
    assert.ok(requirements.length >= 30, `V10 has ${requirements.length} requirements`);
    for (const id of requirements) {
      const row = doc.split('\n').find((line) => line.startsWith(`| ${id} |`));
      assert.ok(row, `${id} has a row`);
      const [, status = '', evidence = ''] = row.split(' | ');
      if (!status.startsWith('not ')) assert.match(evidence, /test\.ts/, `${id} names a test`);
    }
  });
});
