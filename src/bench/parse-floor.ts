/**
 * The benchmark's floors: read every manifest file under the given paths and parse every document on one
 * thread, evaluating nothing. `--parser` picks the reader:
 * - `kubeharden` (default): the splitter and Kubernetes YAML reader `kubeharden audit` uses;
 * - `js-yaml`: js-yaml's `loadAll` on each file (YAML 1.2, no Kubernetes semantics);
 * - `yaml`: the `yaml` package's `parseAllDocuments` + `toJS` on each file.
 * Prints the number of objects parsed.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadAll } from 'js-yaml';
import { parseAllDocuments } from 'yaml';
import { splitDocuments } from '../eval/split.js';
import { expandPaths, parseDocument } from '../eval/manifests.js';

const { values, positionals } = parseArgs({ options: { parser: { type: 'string', default: 'kubeharden' } }, allowPositionals: true });
const { files } = expandPaths(positionals, process.cwd());
let objects = 0;
let errors = 0;
for (const f of files) {
  const text = readFileSync(f, 'utf8');
  if (values.parser === 'js-yaml') {
    for (const d of loadAll(text)) if (d !== null && d !== undefined) objects++;
  } else if (values.parser === 'yaml') {
    for (const d of parseAllDocuments(text)) {
      if (d.errors.length) errors++;
      else if (d.toJS() !== null) objects++;
    }
  } else {
    for (const raw of splitDocuments(text)) {
      const parsed = parseDocument(raw, f);
      objects += parsed.resources.length;
      errors += parsed.errors.length;
    }
  }
}
process.stdout.write(`${JSON.stringify({ parser: values.parser, files: files.length, objects, errors })}\n`);
