// One contract, two sides: the golden batches (made by scripts/golden_batches.py from a
// real replay's outbox) must get the same accepted / rejected ids here as from the
// device's LocalConvex (tests/test_golden_batches.py).
import { expect, test } from "vitest";
import { internal } from "../functions/_generated/api";
import { deployment, device } from "./setup";

type Golden = {
  description: string;
  cloud: Record<string, { deleteAfterDays?: number; [field: string]: unknown }>;
  deviceUsers: string[];
  batches: { id: string }[][];
  expected: { accepted: string[]; rejected: string[] }[];
};

const files = import.meta.glob<Golden>("../../tests/fixtures/upstream/*.json", {
  eager: true,
  import: "default",
});

test("the golden batches are there", () => {
  expect(Object.keys(files).map((path) => path.split("/").pop()).sort()).toEqual([
    "erased.json",
    "invalid.json",
    "privacy.json",
    "replay.json",
  ]);
});

test.each(Object.entries(files))("%s", async (_path, golden) => {
  const t = deployment();
  const { id } = await device(t, golden.deviceUsers);
  for (const [userId, { deleteAfterDays, ...fields }] of Object.entries(golden.cloud)) {
    if (deleteAfterDays !== undefined) {
      await t.mutation(internal.edgecoach.scheduleDataDeletion, { userId, days: deleteAfterDays });
    } else {
      await t.mutation(internal.edgecoach.updateSubscription, { userId, ...fields });
    }
  }
  for (const [index, items] of golden.batches.entries()) {
    const reply = await t.mutation(internal.edgecoach.ingestBatch, { device: id, protocol: 1, items });
    const got = {
      accepted: [...reply.accepted].sort(),
      rejected: reply.rejected.map((entry: { id: string }) => entry.id).sort(),
    };
    expect(got, `batch ${index}: ${JSON.stringify(reply.rejected)}`).toEqual(golden.expected[index]);
  }
});
