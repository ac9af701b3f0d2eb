// The service's entry (`npm start` runs its bundle). Sandbox mode has its own
// entry, sandbox/main.ts, which starts the local fakes and then this service.
import { runService } from './run-service';

void runService();
