// One item of `ingestBatch`: checked, filtered by the user's privacy settings, stored.
// Every refusal is a reason string; nothing here throws for a bad item.
import type { WithoutSystemFields } from "convex/server";
import type { Doc } from "./_generated/dataModel";
import type { MutationCtx } from "./_generated/server";
import { isPlainObject, misfit, withoutNulls } from "./conformity";
import { sanitizeText, stripBiometrics } from "./privacy";
import { ITEM_KINDS, ItemKind, RECORDS, ingestItem } from "./records";
import {
  PERSONA_IDS,
  checkRange,
  validateCoachingTriggerRequest,
  validateSubscriptionUpdate,
} from "./validation";

// Free texts, at any depth, as on the device (edgecoach.sync.payloads.TEXT_FIELDS).
const TEXT_FIELDS = new Set([
  "textContent",
  "toastMessage",
  "comments",
  "exercise",
  "inputPrompt",
  "expectedOutput",
  "actualOutput",
]);

export type Item = {
  id: string;
  kind: ItemKind;
  userId: string;
  recordId: string;
  createdAt: number;
  record: Record<string, unknown>;
};

export type Privacy = Doc<"userSubscriptions">["privacySettings"];

// What a user without a subscription row gets: the device's defaults.
export const DEFAULT_PRIVACY: Privacy = {
  allowDataCollection: true,
  allowAITraining: false,
  dataRetentionDays: 90,
  excludeBiometrics: false,
};

/** The item's envelope and record checked; the item, or why it is refused. */
export function checkItem(raw: unknown): Item | string {
  const envelope = misfit(ingestItem, raw, "item");
  if (envelope !== null) return envelope;
  const item = raw as Item;
  if (!ITEM_KINDS.includes(item.kind)) return `kind: must be one of ${ITEM_KINDS.join(", ")}`;
  const shape = misfit(RECORDS[item.kind], item.record);
  if (shape !== null) return shape;
  return ruleBroken(item);
}

function ruleBroken(item: Item): Item | string {
  const record = item.record;
  const owner = item.kind === "feedback" ? item.userId : record.userId;
  if (owner !== item.userId) return "record.userId: must equal the item's userId";
  const feedback = record.feedback ?? record.userFeedback;
  if (isPlainObject(feedback)) {
    const problem = checkRange(feedback, "record.feedback.", ["rating", 1, 5, "whole"]);
    if (problem !== null) return problem;
  }
  switch (item.kind) {
    case "voice_response":
    case "feedback": {
      const problem = validateCoachingTriggerRequest({
        triggerId: record.triggerId,
        personaId: record.personaId,
        workoutContext: record.workoutContext ?? undefined,
      });
      return problem === null ? item : `record.${problem}`;
    }
    case "training_data": {
      if (!PERSONA_IDS.includes(record.personaId as never)) {
        return `record.personaId: must be one of ${PERSONA_IDS.join(", ")}`;
      }
      return checkRange(record, "record.", ["quality", 0, 1]) ?? item;
    }
    case "coaching_state":
      return item;
    case "subscription": {
      const problem = validateSubscriptionUpdate(record);
      return problem === null ? item : `record.${problem}`;
    }
  }
}

/** Why the user's privacy settings refuse this item, or null. */
export function privacyRefusal(item: Item, privacy: Privacy): string | null {
  if (item.kind === "subscription") return null; // the settings themselves always go
  if (!privacy.allowDataCollection) return "allowDataCollection=false";
  if (item.kind === "training_data" && !privacy.allowAITraining) return "allowAITraining=false";
  return null;
}

/** The record as it may be kept: sanitized texts, no biometrics when excluded, no nulls. */
export function keptRecord(record: Record<string, unknown>, excludeBiometrics: boolean) {
  const kept = excludeBiometrics ? stripBiometrics(record) : record;
  return withoutNulls(sanitized(kept) as Record<string, unknown>);
}

function sanitized(value: unknown, key = ""): unknown {
  if (Array.isArray(value)) return value.map((item) => sanitized(item, key));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, sanitized(item, name)]));
  }
  return typeof value === "string" && TEXT_FIELDS.has(key) ? sanitizeText(value) : value;
}

/** Store a checked, filtered record; a reason when it cannot be stored. */
export async function store(
  ctx: MutationCtx,
  item: Item,
  record: Record<string, any>,
): Promise<string | null> {
  const now = Date.now() / 1000;
  switch (item.kind) {
    case "voice_response": {
      const { feedback, ...response } = record;
      const row = { ...response, ...flatFeedback(feedback) };
      const existing = await responseRow(ctx, record.id);
      if (existing === null) await ctx.db.insert("voiceResponses", row as never);
      else await ctx.db.replace(existing._id, row as never);
      return null;
    }
    case "feedback": {
      const existing = await responseRow(ctx, record.responseId);
      if (existing === null || existing.userId !== item.userId) return "unknown response";
      await ctx.db.patch(existing._id, flatFeedback(record.feedback));
      return null;
    }
    case "training_data": {
      const row = {
        ...record,
        expectedOutput: record.expectedOutput ?? "",
        trainingMetrics: {},
        updatedAt: now,
      };
      const existing = await ctx.db
        .query("trainingData")
        .withIndex("by_training_id", (q) => q.eq("id", record.id))
        .unique();
      if (existing === null) await ctx.db.insert("trainingData", row as never);
      else await ctx.db.replace(existing._id, row as never);
      return null;
    }
    case "subscription": {
      // The tier is the cloud's; the preferences are the newer of the two.
      const existing = await ctx.db
        .query("userSubscriptions")
        .withIndex("by_user", (q) => q.eq("userId", item.userId))
        .first();
      const preferences = {
        preferredPersona: record.preferredPersona,
        devicePreferences: record.devicePreferences,
        privacySettings: record.privacySettings,
        updatedAt: record.updatedAt,
      };
      if (existing === null) {
        await ctx.db.insert("userSubscriptions", { ...defaultSubscription(item.userId, now), ...preferences });
      } else if (existing.updatedAt < record.updatedAt) {
        await ctx.db.patch(existing._id, preferences);
      }
      return null;
    }
    case "coaching_state": {
      const row = { ...record, updatedAt: record.updatedAt ?? item.createdAt } as never;
      const existing = await ctx.db
        .query("coachingStates")
        .withIndex("by_user", (q) => q.eq("userId", item.userId))
        .unique();
      if (existing === null) await ctx.db.insert("coachingStates", row);
      else if (existing.updatedAt <= (row as { updatedAt: number }).updatedAt) {
        await ctx.db.replace(existing._id, row);
      }
      return null;
    }
  }
}

function flatFeedback(feedback: { rating: number; helpful?: boolean; comments?: string } | undefined) {
  if (feedback === undefined) return {};
  return {
    feedbackRating: feedback.rating,
    feedbackHelpful: feedback.helpful,
    feedbackComments: feedback.comments,
  };
}

async function responseRow(ctx: MutationCtx, id: string) {
  return await ctx.db
    .query("voiceResponses")
    .withIndex("by_response_id", (q) => q.eq("id", id))
    .unique();
}

/** A subscription row with the device's defaults (free tier). */
export function defaultSubscription(
  userId: string,
  now: number,
): WithoutSystemFields<Doc<"userSubscriptions">> {
  return {
    userId,
    subscriptionType: "free",
    voiceAccess: true,
    trainingFrequency: "regular",
    preferredPersona: "alice",
    devicePreferences: {
      autoDetectEarbuds: true,
      fallbackToSpeaker: true,
      toastDuration: 3000,
      maxDailyCoaching: 100,
    },
    privacySettings: DEFAULT_PRIVACY,
    usageStats: { totalResponses: 0, monthlyResponses: 0 },
    isActive: true,
    createdAt: now,
    updatedAt: now,
  };
}
