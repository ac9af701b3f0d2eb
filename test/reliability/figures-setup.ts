import fs from 'node:fs';
import { FIGURES_DIR } from './figures';

/** Figures of an earlier run must not pass for this one's. */
export default function clearFigures(): void {
  fs.rmSync(FIGURES_DIR, { recursive: true, force: true });
}
