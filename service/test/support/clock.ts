// Test support (not product): durations in milliseconds, as the tests reason about time.
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
