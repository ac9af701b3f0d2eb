import fs from 'node:fs';
import path from 'node:path';
import { FIGURES_DIR } from './figures';

/** Prints every scenario's figures as one JSON object (also kept in .corofy/reliability/). */
export default function printFigures(): void {
  const figures: Record<string, unknown> = {};
  if (fs.existsSync(FIGURES_DIR)) {
    for (const file of fs.readdirSync(FIGURES_DIR).filter((f) => f.endsWith('.json')).sort()) {
      figures[path.basename(file, '.json')] = JSON.parse(fs.readFileSync(path.join(FIGURES_DIR, file), 'utf8'));
    }
  }
  process.stdout.write(`\n${JSON.stringify({ reliability: figures }, null, 2)}\n`);
}
