// Test support: a fake Apollo on a real port and the service pointed at it.
import { startFakeApollo, type FakeApollo, type FakeApolloOptions } from '../../../sandbox/fake-apollo';
import { startTestService, type TestService } from '../support/test-service';

export interface ApolloKit {
  fake: FakeApollo;
  svc: TestService;
  stop(): Promise<void>;
}

/** Small retry budget and backoff so failing paths stay fast. */
export async function startApolloKit(options: FakeApolloOptions = {}, env: Record<string, string> = {}): Promise<ApolloKit> {
  const fake = await startFakeApollo({ seed: 7, ...options });
  const svc = await startTestService({
    APOLLO_API_KEY: fake.state.apiKey,
    APOLLO_BASE_URL: fake.url,
    APOLLO_MAX_RETRIES: '2',
    APOLLO_RETRY_BASE_MS: '5',
    ...env,
  });
  return {
    fake,
    svc,
    stop: async () => {
      await svc.stop();
      await fake.close();
    },
  };
}

/** The Apollo ids sent to bulk_match since request index `from`. */
export function matchedIds(fake: FakeApollo, from = 0): string[] {
  return fake.state.requests
    .slice(from)
    .filter((r) => r.endpoint === 'match' && r.status === 200)
    .flatMap((r) => r.body.details.map((d: { id: string }) => d.id));
}

export function searchRequests(fake: FakeApollo, from = 0) {
  return fake.state.requests.slice(from).filter((r) => r.endpoint === 'search');
}
