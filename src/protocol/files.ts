import fs from 'fs';
import path from 'path';

import { ConfigError } from '../errors';

export type InputKind = 'config' | 'catalog' | 'state';

const HINTS: Record<InputKind, string> = {
  config: 'pass a JSON object such as {"api_key": "..."}',
  catalog: 'pass the configured catalog JSON (from `discover`, with sync modes chosen)',
  state:
    'pass the STATE messages of the previous sync as a JSON array, or [] for a first sync ' +
    '(delete the state to resync everything)',
};

/**
 * Reads a JSON input file whatever its extension: PyAirbyte writes `.txt` files, and the CDK's
 * `require()` would reject those or silently ignore them.
 */
export function readJsonFile(file: string, kind: InputKind): unknown {
  const resolved = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(resolved, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'unreadable';
    throw new ConfigError(`Cannot read the ${kind} file ${resolved} (${code}): ${HINTS[kind]}.`);
  }
  // Strip a UTF-8 byte-order mark some editors add.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') {
    throw new ConfigError(`The ${kind} file ${resolved} is empty: ${HINTS[kind]}.`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      `The ${kind} file ${resolved} is not valid JSON (${(err as Error).message}): ${HINTS[kind]}.`,
    );
  }
}
