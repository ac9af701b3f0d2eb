// `npm run sandbox`: the service with Apollo, OpenAI and Firecrawl replaced by
// the local fakes in this folder, all in one process, so the whole pipeline
// runs on a laptop with no account anywhere. The service is the same one
// `npm start` runs; only its provider addresses point here.
import { Clock } from '../service/src/clock/clock';
import { runService } from '../service/src/run-service';
import { seedSandboxProfile, startSandboxProviders } from './sandbox-providers';

void runService({
  start: async (config, logger) => {
    // a sandbox's clock may be moved (PUT /v1/sandbox/clock): tests and demos run days in minutes
    const sandbox = await startSandboxProviders({ ...config, sandbox: true, clock: new Clock(true) });
    logger.warn('sandbox mode: Apollo, OpenAI and Firecrawl are local fakes; nothing real is called');
    return sandbox;
  },
  started: (service) => seedSandboxProfile(service.deps.db),
});
