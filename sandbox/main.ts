// `npm run sandbox`: the service with Apollo, OpenAI and Firecrawl replaced by
// the local fakes in this folder, all in one process, so the whole pipeline
// runs on a laptop with no account anywhere. The service is the same one
// `npm start` runs; only its provider addresses point here.
import { runService } from '../service/src/run-service';
import { seedSandboxProfile, startSandboxProviders } from './sandbox-providers';

void runService({
  start: async (config, logger) => {
    const sandbox = await startSandboxProviders({ ...config, sandbox: true });
    logger.warn('sandbox mode: Apollo, OpenAI and Firecrawl are local fakes; nothing real is called');
    return sandbox;
  },
  started: (service) => seedSandboxProfile(service.deps.db),
});
