// Property tests are reproducible: every run uses one fixed seed, so CI never
// goes red on a draw nobody can replay. FC_SEED=<n> replays a seed;
// FC_SEED=random explores new ones (fast-check prints the seed of a failure).
import fc from 'fast-check';

const asked = process.env.FC_SEED;
const seed = asked === 'random' ? (Date.now() ^ Math.floor(Math.random() * 2 ** 31)) | 0 : Number(asked ?? 20261128);
fc.configureGlobal({ seed });
