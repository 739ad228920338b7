/**
 * A first, cheap pass over audit inputs, for facts about objects elsewhere in the input (Namespace labels,
 * legacy token Secrets): only documents whose text matches `mentions` are parsed.
 */
import { parseDocument, type ParsedResource } from '../eval/manifests.js';
import type { AuditInput } from './input.js';
import { DocumentSplitter, type RawDocument } from '../eval/split.js';

/** Calls `visit` for every resource of every document that mentions `mentions`, in input order. */
export async function prescan(inputs: readonly AuditInput[], mentions: RegExp, visit: (resource: ParsedResource, source: string) => void): Promise<void> {
  for (const input of inputs) {
    const splitter = new DocumentSplitter();
    const take = (docs: RawDocument[]): void => {
      for (const raw of docs) {
        if (!mentions.test(raw.text)) continue;
        for (const r of parseDocument(raw, input.source).resources) visit(r, input.source);
      }
    };
    try {
      const decoder = new TextDecoder();
      for await (const chunk of input.open()) take(splitter.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })));
      take(splitter.push(decoder.decode()));
      take(splitter.end());
    } catch {
      // Unreadable inputs are reported by the audit itself.
    }
  }
}
