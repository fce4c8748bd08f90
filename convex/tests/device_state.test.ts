import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { internal } from "../functions/_generated/api";
import { call, deployment, device, responseItem, rowsOf } from "./setup";

beforeEach(() => vi.useFakeTimers({ now: 1_750_000_000_000 }));
afterEach(() => vi.useRealTimers());

const STATE = "edgecoach:deviceState";

describe("deviceState", () => {
  test("the subscription when it changed after the cursor, then nothing", async () => {
    const t = deployment();
    const { token } = await device(t);
    let state = (await call(t, "query", STATE, { userId: "athlete" }, token)).body.value;
    expect(state).toMatchObject({ subscription: null, deletion: null, cursor: 0 });

    await t.mutation(internal.edgecoach.updateSubscription, { userId: "athlete", subscriptionType: "pro" });
    state = (await call(t, "query", STATE, { userId: "athlete", since: state.cursor }, token)).body.value;
    expect(state.subscription).toMatchObject({
      userId: "athlete",
      subscriptionType: "pro",
      preferredPersona: "alice",
      privacySettings: { dataRetentionDays: 90, allowAITraining: false },
    });
    expect(state.subscription).not.toHaveProperty("usageStats");
    expect(state.cursor).toBeCloseTo(1_750_000_000, 1);

    const again = await call(t, "query", STATE, { userId: "athlete", since: state.cursor }, token);
    expect(again.body.value).toMatchObject({ subscription: null, cursor: state.cursor });

    vi.advanceTimersByTime(5000);
    await t.mutation(internal.edgecoach.updateSubscription, {
      userId: "athlete",
      preferredPersona: "aiden",
    });
    const later = (await call(t, "query", STATE, { userId: "athlete", since: state.cursor }, token)).body.value;
    // A partial update: the tier stays pro.
    expect(later.subscription).toMatchObject({ subscriptionType: "pro", preferredPersona: "aiden" });
    expect(later.cursor).toBeCloseTo(1_750_000_005, 1);
  });

  test("updateSubscription refuses a bad field and changes nothing", async () => {
    const t = deployment();
    await t.mutation(internal.edgecoach.updateSubscription, { userId: "athlete", subscriptionType: "pro" });
    await expect(
      t.mutation(internal.edgecoach.updateSubscription, {
        userId: "athlete",
        subscriptionType: "trainer",
        privacySettings: { dataRetentionDays: 0 },
      }),
    ).rejects.toThrow("privacySettings.dataRetentionDays");
    const [row] = await t.run((ctx) => ctx.db.query("userSubscriptions").collect());
    expect([row.subscriptionType, row.privacySettings.dataRetentionDays]).toEqual(["pro", 90]);
  });
});

describe("deletion", () => {
  test("scheduleDataDeletion: the device is told, every row goes, the request ends on acknowledgement", async () => {
    const t = deployment();
    const { token } = await device(t);
    const items = [responseItem(), responseItem()];
    await call(t, "mutation", "edgecoach:ingestBatch", { protocol: 1, items }, token);
    await t.mutation(internal.edgecoach.updateSubscription, { userId: "athlete", subscriptionType: "pro" });
    await t.run((ctx) =>
      ctx.db.insert("rateLimits", {
        userId: "athlete",
        requestType: "coaching_trigger",
        windowStart: 0,
        requestCount: 1,
        windowSize: 3600,
        maxRequests: 50,
        createdAt: 0,
        updatedAt: 0,
      }),
    );
    await t.run((ctx) => ctx.db.insert("voiceResponses", { ...stray(), userId: "other" }));
    expect(await rowsOf(t, "athlete")).toMatchObject({ voiceResponses: 2, syncItems: 2 });

    const { purgeAt } = await t.mutation(internal.edgecoach.scheduleDataDeletion, { userId: "athlete", days: 7 });
    expect(purgeAt).toBeCloseTo(1_750_000_000 + 7 * 86400, 1);
    const responses = await t.run((ctx) => ctx.db.query("voiceResponses").collect());
    const athlete = responses.filter((r) => r.userId === "athlete");
    expect(athlete.map((r) => Math.round(r.deletedAt ?? 0))).toEqual([1_750_000_000, 1_750_000_000]);

    const state = (await call(t, "query", STATE, { userId: "athlete" }, token)).body.value;
    expect(state.deletion).toEqual({ requestedAt: expect.closeTo(1_750_000_000, 1), purgeAt });
    // Items still queued on the device are refused: the user does not come back.
    const late = responseItem();
    const reply = await call(t, "mutation", "edgecoach:ingestBatch", { protocol: 1, items: [late] }, token);
    expect(reply.body.value.rejected).toEqual([{ id: late.id, error: "the user's data is being erased" }]);

    await expect(
      t.mutation(internal.edgecoach.updateSubscription, { userId: "athlete", subscriptionType: "trainer" }),
    ).rejects.toThrow("being erased");
    const ack = await call(t, "mutation", "edgecoach:acknowledgeDeletion", { userId: "athlete" }, token);
    expect(ack.body.value).toEqual({ acknowledged: true });
    expect((await call(t, "query", STATE, { userId: "athlete" }, token)).body.value.deletion).toBeNull();

    vi.advanceTimersByTime(7 * 86400 * 1000);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await rowsOf(t, "athlete")).toEqual({});
    expect(await rowsOf(t, "other")).toEqual({ voiceResponses: 1 });
  });

  test("purged before the device acknowledged: the request waits for it, then goes", async () => {
    const t = deployment();
    const { token } = await device(t);
    await t.mutation(internal.edgecoach.scheduleDataDeletion, { userId: "athlete", days: 0 });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await rowsOf(t, "athlete")).toEqual({ deletionRequests: 1 });
    await call(t, "mutation", "edgecoach:acknowledgeDeletion", { userId: "athlete" }, token);
    expect(await rowsOf(t, "athlete")).toEqual({});
  });

  test.each([-1, 181, NaN])("days %s is refused", async (days) => {
    const t = deployment();
    await expect(t.mutation(internal.edgecoach.scheduleDataDeletion, { userId: "a", days })).rejects.toThrow(
      "days: must be a number from 0 to 180",
    );
    expect(await rowsOf(t, "a")).toEqual({});
  });
});

test("anonymizeTrainingData sanitizes one persona's rows", async () => {
  const t = deployment();
  const row = (personaId: string) => ({
    id: crypto.randomUUID(),
    userId: "athlete",
    personaId,
    inputPrompt: "from 10.0.0.1",
    expectedOutput: "mail a@b.io",
    actualOutput: "call 555 123 4567",
    userFeedback: { rating: 4, helpful: true, comments: "me@x.org" },
    trainingMetrics: {},
    isValidated: false,
    usedInTraining: false,
    createdAt: 0,
    updatedAt: 0,
  });
  await t.run(async (ctx) => {
    await ctx.db.insert("trainingData", row("alice"));
    await ctx.db.insert("trainingData", row("aiden"));
  });
  expect(await t.mutation(internal.edgecoach.anonymizeTrainingData, { personaId: "alice" })).toEqual({
    anonymized: 1,
  });
  const rows = await t.run((ctx) => ctx.db.query("trainingData").collect());
  const alice = rows.find((r) => r.personaId === "alice")!;
  expect([alice.inputPrompt, alice.expectedOutput, alice.actualOutput, alice.userFeedback?.comments]).toEqual([
    "from [IP]",
    "mail [EMAIL]",
    "call [PHONE]",
    "[EMAIL]",
  ]);
  expect(rows.find((r) => r.personaId === "aiden")!.inputPrompt).toBe("from 10.0.0.1");
});

function stray() {
  const { record } = responseItem();
  const { feedback, ...row } = record;
  return { ...row, workoutContext: {}, userId: "other" };
}
