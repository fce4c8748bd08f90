// A fresh mock deployment per test, a device token, and the calls a device makes over HTTP.
import { convexTest } from "convex-test";
import { internal } from "../functions/_generated/api";
import schema from "../functions/schema";

export const modules = import.meta.glob("../functions/**/*.ts");

export function deployment() {
  return convexTest(schema, modules);
}

export type Deployment = ReturnType<typeof deployment>;

/** A device that may act for `userIds`: its token and its row id. */
export async function device(t: Deployment, userIds: string[] = ["athlete"]) {
  const { token } = await t.action(internal.devices.createDeviceToken, { label: "pi", userIds });
  const row = await t.run(async (ctx) => ctx.db.query("deviceTokens").order("desc").first());
  return { token, id: row!._id };
}

/** POST like the device's ConvexClient: returns the HTTP status and the JSON body. */
export async function call(
  t: Deployment,
  kind: "mutation" | "query",
  path: string,
  args: unknown,
  token: string | null,
) {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const response = await t.fetch(`/api/${kind}`, {
    method: "POST",
    headers,
    body: JSON.stringify({ path, args, format: "json" }),
  });
  return { status: response.status, body: await response.json() };
}

/** Everything stored about `userId`, table by table (empty tables left out). */
export async function rowsOf(t: Deployment, userId: string) {
  return await t.run(async (ctx) => {
    const found: Record<string, number> = {};
    for (const table of Object.keys(schema.tables) as (keyof typeof schema.tables)[]) {
      const rows = (await ctx.db.query(table).collect()).filter(
        (row: any) => row.userId === userId,
      );
      if (rows.length > 0) found[table] = rows.length;
    }
    return found;
  });
}

const NOW = 1_750_000_000;

/** A voice_response item as the device builds it (nulls for absent values). */
export function responseItem(overrides: Record<string, any> = {}, record: Record<string, any> = {}) {
  const recordId = record.id ?? crypto.randomUUID();
  return {
    id: crypto.randomUUID(),
    kind: "voice_response",
    userId: "athlete",
    recordId,
    createdAt: NOW,
    record: {
      id: recordId,
      userId: "athlete",
      triggerId: "set-end",
      personaId: "alice",
      textContent: "Nice set. Mail me at a.b@example.com, heart rate 150.",
      toastMessage: "Set done",
      audioKey: "abc123def4567890",
      audioLength: 2.5,
      metadata: {
        generationLatency: 12.5,
        ttsLatency: 80,
        cacheHit: false,
        modelVersion: "coach-1",
        inputTokens: 10,
        outputTokens: 12,
      },
      workoutContext: {
        exercise: "squat",
        reps: 8,
        weight: 60,
        strain: 11.5,
        heartRate: 150,
        sleepHours: null,
        setNumber: 2,
        totalSets: null,
        restSeconds: 90,
        durationSeconds: null,
        volume: null,
        peakHeartRate: null,
        zoneLow: null,
        zoneHigh: null,
        personalBest: false,
        lastSet: false,
      },
      deviceState: { hasEarbuds: true, audioEnabled: true, platform: "linux" },
      feedback: null,
      createdAt: NOW,
      ...record,
    },
    ...overrides,
  };
}
