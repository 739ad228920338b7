#!/usr/bin/env node
/**
 * Copies the files tsc does not emit from src/ to dist/ (part of `npm run build:ts`): each control's Rego
 * template (src/controls/<id>/gatekeeper.rego.hbs), which the compiled definition finds beside itself.
 */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');
const ASSET = /\.rego\.hbs$/;

let copied = 0;
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (ASSET.test(e.name)) {
      const to = join(DIST, relative(SRC, p));
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(p, to);
      copied++;
    }
  }
};
walk(SRC);
if (copied === 0) throw new Error('copy-assets: no Rego template found under src/');
