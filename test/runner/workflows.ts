import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Every GitHub Actions workflow file of the repository (.github/workflows/*.yml|yaml), sorted. */
export function workflowFiles(root: string): string[] {
  const dir = join(root, '.github/workflows');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => /\.ya?ml$/.test(name)).sort().map((name) => join(dir, name));
}

/** The npm workflow linter (`@action-validator/cli`: GitHub's workflow schema, checked offline). */
export const ACTION_VALIDATOR = 'node_modules/.bin/action-validator';
