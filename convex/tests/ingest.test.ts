import { describe, expect, test } from "vitest";
import { internal } from "../functions/_generated/api";
import { call, deployment, device, responseItem } from "./setup";

const INGEST = "edgecoach:ingestBatch";

async function ingest(t: ReturnType<typeof deployment>, id: any, items: unknown[]) {
  return await t.mutation(internal.edgecoach.ingestBatch, { device: id, protocol: 1, items });
}

describe("ingestBatch", () => {
  test("stores a response once however often its batch is retried", async () => {
    const t = deployment();
    const { id } = await device(t);
    const item = responseItem();
    for (let attempt = 0; attempt < 3; attempt++) {
      expect(await ingest(t, id, [item])).toEqual({ accepted: [item.id], rejected: [] });
    }
    const stored = await t.run((ctx) => ctx.db.query("voiceResponses").collect());
    expect(stored).toHaveLength(1);
    expect(stored[0].id).toBe(item.recordId);
    expect(await t.run((ctx) => ctx.db.query("syncItems").collect())).toHaveLength(1);
  });

  test("one bad item is refused alone, naming the field", async () => {
    const t = deployment();
    const { id } = await device(t);
    const good = responseItem();
    const zeroReps = responseItem({}, { workoutContext: { reps: 0 } });
    const unknownField = responseItem({}, { mood: "great" });
    const badKind = { ...responseItem(), kind: "gossip" };
    const result = await ingest(t, id, [good, zeroReps, unknownField, badKind, { no: "id" }]);
    expect(result.accepted).toEqual([good.id]);
    expect(Object.fromEntries(result.rejected.map((r: any) => [r.id, r.error]))).toEqual({
      [zeroReps.id]: "record.workoutContext.reps: must be a number from 1 to 1000",
      [unknownField.id]: "record.mood: unknown field",
      [badKind.id]: "kind: must be one of voice_response, feedback, training_data, coaching_state, subscription",
    });
  });

  test.each([
    [{ triggerId: "nap" }, "record.triggerId: must be one of"],
    [{ personaId: "bob" }, "record.personaId: must be one of"],
    [{ workoutContext: { weight: -1 } }, "record.workoutContext.weight"],
    [{ workoutContext: { strain: 100.5 } }, "record.workoutContext.strain"],
    [{ workoutContext: { heartRate: 300 } }, "record.workoutContext.heartRate"],
    [{ feedback: { rating: 0, helpful: true } }, "record.feedback.rating"],
    [{ feedback: { rating: 2.5 } }, "record.feedback.rating"],
    [{ userId: "someone-else" }, "record.userId: must equal"],
    [{ audioLength: "long" }, "record.audioLength: must be a finite number"],
    [{ metadata: null }, "record.metadata: missing"],
  ])("refuses %j", async (record, error) => {
    const t = deployment();
    const { id } = await device(t);
    const item = responseItem({}, record);
    const { accepted, rejected } = await ingest(t, id, [item]);
    expect(accepted).toEqual([]);
    expect(rejected[0].error).toContain(error);
    expect(await t.run((ctx) => ctx.db.query("voiceResponses").collect())).toEqual([]);
  });

  test("a weight of 0 and a strain of 0 are values, not absences", async () => {
    const t = deployment();
    const { id } = await device(t);
    const item = responseItem({}, { workoutContext: { weight: 0, strain: 0, reps: 1 } });
    expect((await ingest(t, id, [item])).accepted).toEqual([item.id]);
  });

  test("texts are sanitized again and biometrics stripped when the user excludes them", async () => {
    const t = deployment();
    const { id } = await device(t);
    await t.mutation(internal.edgecoach.updateSubscription, {
      userId: "athlete",
      privacySettings: { excludeBiometrics: true },
    });
    const item = responseItem();
    await ingest(t, id, [item]);
    const [row] = await t.run((ctx) => ctx.db.query("voiceResponses").collect());
    expect(row.textContent).toBe("Nice set. Mail me at [EMAIL], heart rate 150.");
    expect(row.workoutContext).toEqual({
      exercise: "squat",
      reps: 8,
      weight: 60,
      setNumber: 2,
      restSeconds: 90,
      personalBest: false,
      lastSet: false,
    });
  });

  test("allowDataCollection=false refuses everything, allowAITraining=false training data", async () => {
    const t = deployment();
    const { id } = await device(t);
    const training = trainingItem();
    // No settings in the cloud: the device's own filter stands.
    expect((await ingest(t, id, [trainingItem()])).accepted).toHaveLength(1);
    await t.mutation(internal.edgecoach.updateSubscription, { userId: "athlete", voiceAccess: true });
    expect((await ingest(t, id, [training])).rejected).toEqual([
      { id: training.id, error: "allowAITraining=false" },
    ]);
    await t.mutation(internal.edgecoach.updateSubscription, {
      userId: "athlete",
      privacySettings: { allowAITraining: true },
    });
    expect((await ingest(t, id, [training])).accepted).toEqual([training.id]);
    await t.mutation(internal.edgecoach.updateSubscription, {
      userId: "athlete",
      privacySettings: { allowDataCollection: false },
    });
    const response = responseItem();
    expect((await ingest(t, id, [response])).rejected).toEqual([
      { id: response.id, error: "allowDataCollection=false" },
    ]);
    // Already stored before: a retry is still answered accepted, nothing new stored.
    expect((await ingest(t, id, [training])).accepted).toEqual([training.id]);
    const rows = await t.run((ctx) => ctx.db.query("trainingData").collect());
    expect(rows).toHaveLength(2);
    expect(rows[1].expectedOutput).toBe("");
    expect(rows[1].inputPrompt).toContain("[PHONE]");
  });

  test("feedback lands on its response; unknown response refused", async () => {
    const t = deployment();
    const { id } = await device(t);
    const response = responseItem();
    const feedback = {
      id: crypto.randomUUID(),
      kind: "feedback",
      userId: "athlete",
      recordId: response.recordId,
      createdAt: 1,
      record: {
        responseId: response.recordId,
        triggerId: "set-end",
        personaId: "alice",
        feedback: { rating: 4, helpful: null, comments: "call 555-123-4567" },
      },
    };
    const orphan = { ...feedback, id: crypto.randomUUID(), record: { ...feedback.record, responseId: "x" } };
    const result = await ingest(t, id, [response, feedback, orphan]);
    expect(result.accepted).toEqual([response.id, feedback.id]);
    expect(result.rejected).toEqual([{ id: orphan.id, error: "unknown response" }]);
    const [row] = await t.run((ctx) => ctx.db.query("voiceResponses").collect());
    expect([row.feedbackRating, row.feedbackHelpful, row.feedbackComments]).toEqual([4, undefined, "call [PHONE]"]);
  });

  test("coaching state: the newest updatedAt wins", async () => {
    const t = deployment();
    const { id } = await device(t);
    const state = (chattiness: string, updatedAt: number | null) => ({
      id: crypto.randomUUID(),
      kind: "coaching_state",
      userId: "athlete",
      recordId: "athlete",
      createdAt: 5,
      record: {
        userId: "athlete",
        chattiness,
        minGapSeconds: 30,
        priorityFloor: 1,
        updatedAt,
        triggers: { "set-end": { helpful: 1, notHelpful: 0, speakChance: 1 } },
      },
    });
    await ingest(t, id, [state("quiet", 20), state("chatty", 10)]);
    let [row] = await t.run((ctx) => ctx.db.query("coachingStates").collect());
    expect(row.chattiness).toBe("quiet");
    await ingest(t, id, [state("normal", null), state("chatty", 30)]);
    [row] = await t.run((ctx) => ctx.db.query("coachingStates").collect());
    expect([row.chattiness, row.updatedAt]).toEqual(["chatty", 30]);
  });

  test("a device writes only for its own users; a protocol it does not know fails the batch", async () => {
    const t = deployment();
    const { id } = await device(t, ["someone"]);
    const item = responseItem();
    expect((await ingest(t, id, [item])).rejected[0].error).toBe(
      "this device may not write for that user",
    );
    await expect(
      t.mutation(internal.edgecoach.ingestBatch, { device: id, protocol: 2, items: [] }),
    ).rejects.toThrow("protocol 2");
  });
});

describe("the HTTP endpoint", () => {
  test("an unknown, missing or revoked token gets 401 and nothing is written", async () => {
    const t = deployment();
    const { token } = await device(t);
    const args = { protocol: 1, items: [responseItem()] };
    for (const bad of [null, "not-a-token", `${token}x`]) {
      const { status, body } = await call(t, "mutation", INGEST, args, bad);
      expect(status).toBe(401);
      expect(body.status).toBe("error");
    }
    await t.mutation(internal.devices.revokeDeviceTokens, { label: "pi" });
    expect((await call(t, "mutation", INGEST, args, token)).status).toBe(401);
    expect(await t.run((ctx) => ctx.db.query("voiceResponses").collect())).toEqual([]);
    expect(await t.run((ctx) => ctx.db.query("syncItems").collect())).toEqual([]);
  });

  test("a good token runs ingestBatch with the Convex reply envelope", async () => {
    const t = deployment();
    const { token } = await device(t);
    const item = responseItem();
    const { status, body } = await call(t, "mutation", INGEST, { protocol: 1, items: [item] }, token);
    expect(status).toBe(200);
    expect(body).toEqual({ status: "success", value: { accepted: [item.id], rejected: [] } });
  });

  test("unknown path 404, bad args 560, another user's state 403", async () => {
    const t = deployment();
    const { token } = await device(t);
    expect((await call(t, "mutation", "edgecoach:dropTables", {}, token)).status).toBe(404);
    expect((await call(t, "query", INGEST, {}, token)).status).toBe(404);
    const bad = await call(t, "mutation", INGEST, { protocol: 1, items: "x" }, token);
    expect([bad.status, bad.body.status]).toEqual([560, "error"]);
    const other = await call(t, "query", "edgecoach:deviceState", { userId: "other" }, token);
    expect(other.status).toBe(403);
  });
});

test("hostile bodies get one clear error and change nothing", async () => {
  const t = deployment();
  const { token } = await device(t);
  const post = async (body: string, authorization = `Bearer ${token}`, kind = "mutation") => {
    const response = await t.fetch(`/api/${kind}`, {
      method: "POST",
      headers: { Authorization: authorization, "Content-Type": "application/json" },
      body,
    });
    const json = await response.json();
    expect(json.status).toBe("error");
    expect(typeof json.errorMessage).toBe("string");
    return response.status;
  };
  expect(await post("{}", `bearer ${token}`)).toBe(401);
  expect(await post("{}", `Bearer ${token} extra`)).toBe(401);
  expect(await post("{not json")).toBe(400);
  expect(await post("null")).toBe(404);
  expect(await post("[]")).toBe(404);
  expect(await post(JSON.stringify({ path: INGEST, args: [] }))).toBe(400);
  expect(await post(JSON.stringify({ path: INGEST, args: { protocol: 1 } }))).toBe(560);
  const since = JSON.stringify({ path: "edgecoach:deviceState", args: { userId: "athlete", since: "abc" } });
  expect(await post(since, `Bearer ${token}`, "query")).toBe(560);
  const notString = JSON.stringify({ path: "edgecoach:deviceState", args: { userId: 7 } });
  expect(await post(notString, `Bearer ${token}`, "query")).toBe(403);
  expect(await t.run((ctx) => ctx.db.query("syncItems").collect())).toEqual([]);
});

function trainingItem() {
  const recordId = crypto.randomUUID();
  return {
    id: crypto.randomUUID(),
    kind: "training_data",
    userId: "athlete",
    recordId,
    createdAt: 1,
    record: {
      id: recordId,
      userId: "athlete",
      personaId: "aiden",
      inputPrompt: '{"context": {"note": "call 555 123 4567"}}',
      expectedOutput: null,
      actualOutput: "Push.",
      quality: 0.8,
      userFeedback: { rating: 5, helpful: true, comments: null },
      isValidated: false,
      usedInTraining: false,
      trainingBatch: null,
      responseId: null,
      createdAt: 1,
    },
  };
}

describe("a subscription item (settings changed on the device)", () => {
  const settings = (updatedAt: number, changes: Record<string, unknown> = {}) => ({
    id: crypto.randomUUID(),
    kind: "subscription",
    userId: "athlete",
    recordId: "athlete",
    createdAt: updatedAt,
    record: {
      userId: "athlete",
      subscriptionType: "trainer",
      voiceAccess: true,
      trainingFrequency: "regular",
      preferredPersona: "aiden",
      devicePreferences: { autoDetectEarbuds: true, fallbackToSpeaker: false, toastDuration: 4000, maxDailyCoaching: 0 },
      privacySettings: { allowDataCollection: false, allowAITraining: false, dataRetentionDays: 30, excludeBiometrics: true },
      updatedAt,
      ...changes,
    },
  });
  const row = (t: ReturnType<typeof deployment>) =>
    t.run(async (ctx) => (await ctx.db.query("userSubscriptions").first())!);

  test("takes the preferences when newer, never the tier", async () => {
    const t = deployment();
    const { id } = await device(t);
    expect((await ingest(t, id, [settings(100)])).accepted).toHaveLength(1);
    let stored = await row(t);
    expect([stored.subscriptionType, stored.preferredPersona, stored.updatedAt]).toEqual(["free", "aiden", 100]);
    expect(stored.privacySettings.allowDataCollection).toBe(false);
    // The device said "no collection": its settings still go, older ones are not taken.
    expect((await ingest(t, id, [settings(50, { preferredPersona: "alice" })])).accepted).toHaveLength(1);
    expect((await row(t)).preferredPersona).toBe("aiden");
    await ingest(t, id, [settings(200, { preferredPersona: "alice" })]);
    stored = await row(t);
    expect([stored.subscriptionType, stored.preferredPersona, stored.updatedAt]).toEqual(["free", "alice", 200]);
  });

  test.each([
    [{ preferredPersona: "bob" }, "record.preferredPersona"],
    [{ privacySettings: { allowDataCollection: true, allowAITraining: true, dataRetentionDays: 0, excludeBiometrics: false } }, "record.privacySettings.dataRetentionDays"],
    [{ privacySettings: { allowAiTraining: true } }, "record.privacySettings.allowAiTraining: unknown field"],
    [{ usageStats: {} }, "record.usageStats: unknown field"],
  ])("refuses %j", async (changes, error) => {
    const t = deployment();
    const { id } = await device(t);
    const { rejected } = await ingest(t, id, [settings(1, changes)]);
    expect(rejected[0].error).toContain(error);
    expect(await row(t)).toBeNull();
  });
});
