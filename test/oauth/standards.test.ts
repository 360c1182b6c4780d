import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { SHARED_VECTORS, sharedVectorsUnavailable } from '../support/shared-vectors.ts';

const root = new URL('../../', import.meta.url);
const doc = readFileSync(new URL('docs/standards.md', root), 'utf8');
/**
 * One file's run of titles in a row: `file`: "title", "title" … (a row may hold several runs,
 * separated by `; `). Every title of the run is checked, not only the first.
 */
const REFERENCE = /`((?:test|src)\/[\w./-]+\.test\.ts)`: ((?:"[^"]+"(?:, )?)+)/g;
const QUOTED = /"([^"]+)"/g;
/**
 * The title of a `test(…)` / `describe(…)` call (also `it`, `.only`, `.skip`, `.todo`): the
 * first argument when it is a string literal. Not preceded by `.` or a word character, so
 * `/x/.test('…')` or an assertion message is not taken for a title.
 */
const TITLE = /(?<![.\w$])(?:test|describe|it)(?:\.(?:only|skip|todo))?\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/g;

const titlesByFile = new Map<string, string[]>();
/** The test and describe titles of a file, unescaped as the runner shows them. */
function titlesOf(file: string): string[] {
  let titles = titlesByFile.get(file);
  if (!titles) {
    const source = readFileSync(new URL(file, root), 'utf8');
    titles = [...source.matchAll(TITLE)].map((match) => match[2]!.replace(/\\(.)/g, '$1'));
    titlesByFile.set(file, titles);
  }
  return titles;
}

/**
 * A row names a test by the start of its title (the doc's own rule): the named text must be a
 * real title, or its beginning up to a word's end, so "PAR (RFC 9126)" names
 * "PAR (RFC 9126): a client that requires it …" but "PAR (RFC" or "PA" names nothing.
 */
function names(reference: string, title: string): boolean {
  return (
    title === reference ||
    (title.startsWith(reference) && !/^[\p{L}\p{N}_]/u.test(title.slice(reference.length)))
  );
}

/** The ASVS CSV's requirement ids of one chapter (column `req_id`), read where the vectors live. */
function asvsRequirements(chapter: string): string[] {
  const csv = readFileSync(new URL('OWASP_ASVS_5.0.0_en.csv', SHARED_VECTORS), 'utf8');
  const ids = new Set<string>();
  for (const match of csv.matchAll(new RegExp(`^${chapter},[^\\n]*?,(${chapter}\\.\\d+\\.\\d+),`, 'gm')))
    ids.add(match[1]!);
  return [...ids];
}

describe('docs/standards.md', () => {
  test('every test it names exists: each title of each row is a real test or describe title in that file', () => {
    let checked = 0;
    for (const row of doc.split('\n').filter((line) => line.startsWith('| '))) {
      const evidence = row.split(' | ').at(-1) ?? '';
      const runs = [...evidence.matchAll(REFERENCE)];
      // Nothing in the column escapes the pattern: a quoted title outside `file`: "…" runs (a
      // typo in the file name, a missing colon) would otherwise never be checked.
      const rest = runs.reduce((left, [run]) => left.replace(run!, ''), evidence);
      assert.doesNotMatch(rest, /"/, `a title in this row is not after a file name: ${row.slice(0, 60)}`);
      for (const [, file, list] of runs) {
        assert.ok(existsSync(new URL(file!, root)), `${file} exists`);
        for (const [, reference] of list!.matchAll(QUOTED)) {
          checked++;
          assert.ok(
            titlesOf(file!).some((title) => names(reference!, title)),
            `${file} has a test or describe titled "${reference}…"`,
          );
        }
      }
    }
    assert.ok(checked > 100, `${checked} titles checked`);
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
