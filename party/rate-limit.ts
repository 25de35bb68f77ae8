/**
 * Rate limiting as a generic cell rate algorithm (a token bucket kept as one "theoretical
 * arrival time", so all arithmetic is exact integer milliseconds). Pure: callers keep one
 * bucket per connection and pass the clock in.
 * `{ capacity: 1, refillIntervalMs: 2000 }` means one message per 2 s with no burst.
 */
export type RateLimitPolicy = { capacity: number; refillIntervalMs: number };
/** `tat`: when the bucket would be full again if nothing more were taken. */
export type Bucket = { tat: number };
export type RateLimitResult = { allowed: true; bucket: Bucket } | { allowed: false; bucket: Bucket; retryAfterMs: number };

export function fullBucket(_policy: RateLimitPolicy, now: number): Bucket {
  return { tat: now };
}

export function takeToken(bucket: Bucket, policy: RateLimitPolicy, now: number): RateLimitResult {
  const burstAllowance = (policy.capacity - 1) * policy.refillIntervalMs;
  const earliest = bucket.tat - burstAllowance;
  if (now < earliest) return { allowed: false, bucket, retryAfterMs: earliest - now };
  return { allowed: true, bucket: { tat: Math.max(bucket.tat, now) + policy.refillIntervalMs } };
}
