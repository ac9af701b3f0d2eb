// The reliability suite's figures: each scenario records what it measured; the
// run ends by printing them all as one JSON object (figures-report.ts).
import fs from 'node:fs';
import path from 'node:path';

export const FIGURES_DIR = path.resolve(__dirname, '../../.corofy/reliability');

export function recordFigures(scenario: string, figures: Record<string, unknown>): void {
  fs.mkdirSync(FIGURES_DIR, { recursive: true });
  fs.writeFileSync(path.join(FIGURES_DIR, `${scenario}.json`), `${JSON.stringify(figures, null, 2)}\n`);
}
