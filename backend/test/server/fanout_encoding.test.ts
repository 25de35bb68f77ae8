/**
 * The shared wire encoding of subscription results: text built once per result and spliced into
 * each connection's Transition must parse to exactly the messages the protocol types describe.
 */
import { describe, expect, it } from "vitest";
import { encodeTransition } from "../../src/server/protocol.js";
import { encodeModification, modificationFor, resultOf } from "../../src/server/subscriptions.js";

const results = [
  resultOf({ success: true, value: { rows: [1, "two", null, { nested: [true] }] }, errorMessage: "", logLines: ["[LOG] 'hi'"] }),
  resultOf({ success: true, value: null, errorMessage: "", logLines: [] }),
  resultOf({ success: false, value: null, errorMessage: 'Uncaught Error: "quoted"\nline', logLines: [] }),
  resultOf({ success: false, value: null, errorMessage: "ConvexError", errorData: { code: "FULL", slots: [1, 2] }, logLines: ["x"] }),
];

describe("shared subscription encoding", () => {
  it("encodes each result's modification as the JSON of the protocol object, for any query id", () => {
    for (const result of results) {
      for (const queryId of [0, 7, 123456]) {
        expect(JSON.parse(encodeModification(queryId, result))).toEqual(modificationFor(queryId, result));
      }
    }
  });

  it("gives equal fingerprints to equal results and different ones to different results", () => {
    const again = resultOf({ success: true, value: { rows: [1, "two", null, { nested: [true] }] }, errorMessage: "", logLines: [] });
    expect(again.fingerprint).toBe(results[0].fingerprint);
    expect(new Set(results.map((result) => result.fingerprint)).size).toBe(results.length);
  });

  it("splices encoded modifications into a Transition that parses to the full message", () => {
    const start = { querySet: 3, ts: "AAAAAAAAAAA=", identity: 1 };
    const end = { querySet: 4, ts: "AQAAAAAAAAA=", identity: 1 };
    const text = encodeTransition(start, end, [encodeModification(1, results[0]), encodeModification(2, results[3])]);
    expect(JSON.parse(text)).toEqual({
      type: "Transition",
      startVersion: start,
      endVersion: end,
      modifications: [modificationFor(1, results[0]), modificationFor(2, results[3])],
    });
    expect(JSON.parse(encodeTransition(start, end, []))).toEqual({ type: "Transition", startVersion: start, endVersion: end, modifications: [] });
  });
});
