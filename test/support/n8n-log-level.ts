// The node errors the workflow tests provoke (no credits, an unreachable
// service) are asserted on the items; n8n's error reporter would also print
// each one with its stack, so a passing run would look like a failing one.
// N8N_LOG_LEVEL=error (or debug) in the environment shows them again.
process.env.N8N_LOG_LEVEL ??= 'silent';
