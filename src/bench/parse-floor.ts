/**
 * The benchmark's floor: read every manifest file under the given paths and parse every document with
 * the same splitter and YAML parser `kubeharden audit` uses, on one thread, evaluating nothing.
 * Prints the number of objects parsed.
 */
import { readFileSync } from 'node:fs';
import { splitDocuments } from '../audit/split.js';
import { expandPaths, parseDocument } from '../eval/manifests.js';

const { files } = expandPaths(process.argv.slice(2), process.cwd());
let objects = 0;
let errors = 0;
for (const f of files) {
  for (const raw of splitDocuments(readFileSync(f, 'utf8'))) {
    const parsed = parseDocument(raw, f);
    objects += parsed.resources.length;
    errors += parsed.errors.length;
  }
}
process.stdout.write(`${JSON.stringify({ files: files.length, objects, errors })}\n`);
