import { describe, expect, it } from "vitest";
import { fullBucket, takeToken, type Bucket, type RateLimitPolicy } from "./rate-limit";

function run(policy: RateLimitPolicy, times: number[]): boolean[] {
  let bucket: Bucket = fullBucket(policy, times[0]);
  return times.map((now) => {
    const result = takeToken(bucket, policy, now);
    bucket = result.bucket;
    return result.allowed;
  });
}

describe("token bucket", () => {
  const onePer2s = { capacity: 1, refillIntervalMs: 2_000 };

  it("allows one message per 2 s and refuses the excess", () => {
    expect(run(onePer2s, [0, 1, 1_999, 2_000, 3_000, 4_000])).toEqual([true, false, false, true, false, true]);
  });

  it("tells how long to wait", () => {
    const first = takeToken(fullBucket(onePer2s, 0), onePer2s, 0);
    const second = takeToken(first.bucket, onePer2s, 500);
    expect(second).toMatchObject({ allowed: false, retryAfterMs: 1_500 });
  });

  it("allows a burst up to capacity, then the refill rate", () => {
    const policy = { capacity: 3, refillIntervalMs: 1_000 };
    expect(run(policy, [0, 0, 0, 0, 999, 1_000])).toEqual([true, true, true, false, false, true]);
  });

  it("does not bank more than capacity after a long pause", () => {
    const policy = { capacity: 2, refillIntervalMs: 1_000 };
    expect(run(policy, [0, 0, 100_000, 100_000, 100_000])).toEqual([true, true, true, true, false]);
  });

  it("is not fooled by a clock that goes backwards", () => {
    expect(run(onePer2s, [10_000, 5_000, 9_000])).toEqual([true, false, false]);
  });
});
