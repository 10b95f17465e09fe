import fs from 'fs';
import path from 'path';

/** resources/ sits beside both src/ (ts-jest) and lib/ (built), so one relative path serves both. */
export const RESOURCES_DIR = path.resolve(__dirname, '..', 'resources');

export function readResourceJson<T>(relativePath: string): T {
  return JSON.parse(fs.readFileSync(path.join(RESOURCES_DIR, relativePath), 'utf8')) as T;
}
