// The functions the device calls (through http.ts, which checks its token) and the
// cloud's own: subscription updates, deletion and anonymization.
import { v } from "convex/values";
import { internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { internalMutation, internalQuery, type MutationCtx, type QueryCtx } from "./_generated/server";
import {
  checkItem,
  defaultSubscription,
  keptRecord,
  privacyRefusal,
  store,
} from "./ingest";
import { sanitizeText } from "./privacy";
import { devicePreferences, privacySettings } from "./schema";
import { validateSubscriptionUpdate } from "./validation";

export const PROTOCOL_VERSION = 1;
const DAY_SECONDS = 24 * 3600;
// Tables holding a user's rows, by their userId index ("by_user" in each).
const USER_TABLES = [
  "voiceResponses",
  "userSubscriptions",
  "trainingData",
  "coachingStates",
  "syncItems",
] as const;

type Rejected = { id: string; error: string };

/** The device's outbox, one batch: idempotent by item id, one bad item refused alone. */
export const ingestBatch = internalMutation({
  args: { device: v.id("deviceTokens"), protocol: v.number(), items: v.array(v.any()) },
  handler: async (ctx, { device, protocol, items }) => {
    if (protocol !== PROTOCOL_VERSION) throw new Error(`protocol ${protocol} is not supported`);
    const token = await ctx.db.get(device);
    const accepted: string[] = [];
    const rejected: Rejected[] = [];
    for (const raw of items) {
      const id = (raw as { id?: unknown } | null)?.id;
      if (typeof id !== "string" || id === "") continue; // nothing to answer it by
      const error = await ingestOne(ctx, raw, token?.userIds ?? []);
      if (error === null) accepted.push(id);
      else rejected.push({ id, error });
    }
    return { accepted, rejected };
  },
});

async function ingestOne(ctx: MutationCtx, raw: unknown, allowedUsers: string[]) {
  const item = checkItem(raw);
  if (typeof item === "string") return item;
  if (!allowedUsers.includes(item.userId)) return "this device may not write for that user";
  const known = await ctx.db
    .query("syncItems")
    .withIndex("by_item_id", (q) => q.eq("itemId", item.id))
    .unique();
  if (known !== null) return null; // a retried batch: answered again, stored once
  if ((await pendingDeletion(ctx, item.userId)) !== null) return "the user's data is being erased";
  // No subscription in the cloud: the device's own settings filtered what it sent.
  const privacy = (await subscriptionOf(ctx, item.userId))?.privacySettings ?? null;
  const refusal = privacy === null ? null : privacyRefusal(item, privacy);
  if (refusal !== null) return refusal;
  const error = await store(ctx, item, keptRecord(item.record, privacy?.excludeBiometrics ?? false));
  if (error !== null) return error;
  await ctx.db.insert("syncItems", {
    itemId: item.id,
    kind: item.kind,
    userId: item.userId,
    recordId: item.recordId,
    receivedAt: Date.now() / 1000,
  });
  return null;
}

/** What the device must apply for one user: the subscription when it changed after
 * `since`, and a pending deletion request. `cursor` is the `since` of the next call. */
export const deviceState = internalQuery({
  args: { userId: v.string(), since: v.optional(v.number()) },
  handler: async (ctx, { userId, since }) => {
    const after = since ?? 0;
    const subscription = await subscriptionOf(ctx, userId);
    const deletion = await pendingDeletion(ctx, userId);
    const changed = subscription !== null && subscription.updatedAt > after;
    return {
      protocol: PROTOCOL_VERSION,
      userId,
      cursor: Math.max(after, subscription?.updatedAt ?? 0),
      subscription: changed ? deviceFields(subscription) : null,
      deletion:
        deletion === null || deletion.acknowledgedAt !== undefined
          ? null
          : { requestedAt: deletion.requestedAt, purgeAt: deletion.purgeAt },
    };
  },
});

function deviceFields(subscription: NonNullable<Awaited<ReturnType<typeof subscriptionOf>>>) {
  const { _id, _creationTime, usageStats, isActive, createdAt, ...fields } = subscription;
  return fields;
}

/** The device erased the user locally: the request is done once the cloud purge ran too. */
export const acknowledgeDeletion = internalMutation({
  args: { device: v.id("deviceTokens"), userId: v.string() },
  handler: async (ctx, { device, userId }) => {
    const token = await ctx.db.get(device);
    if (token === null || !token.userIds.includes(userId)) {
      throw new Error("this device may not act for that user");
    }
    const request = await pendingDeletion(ctx, userId);
    if (request === null) return { acknowledged: false };
    const now = Date.now() / 1000;
    if (request.purgedAt !== undefined) await ctx.db.delete(request._id);
    else await ctx.db.patch(request._id, { acknowledgedAt: now });
    return { acknowledged: true };
  },
});

/** A partial update of a subscription (the cloud app's settings page): only the fields
 * sent are checked and changed; a user without a row starts from the defaults. */
export const updateSubscription = internalMutation({
  args: {
    userId: v.string(),
    subscriptionType: v.optional(v.string()),
    voiceAccess: v.optional(v.boolean()),
    trainingFrequency: v.optional(v.string()),
    preferredPersona: v.optional(v.string()),
    devicePreferences: v.optional(partial(devicePreferences.fields)),
    privacySettings: v.optional(partial(privacySettings.fields)),
  },
  handler: async (ctx, { userId, ...update }) => {
    const problem = validateSubscriptionUpdate(update);
    if (problem !== null) throw new Error(problem);
    // Settings for a user being erased would bring the user back on the devices.
    if ((await pendingDeletion(ctx, userId)) !== null) throw new Error("the user's data is being erased");
    const now = Date.now() / 1000;
    const current = (await subscriptionOf(ctx, userId)) ?? (await insertDefaultSubscription(ctx, userId, now));
    await ctx.db.patch(current._id, {
      ...update,
      devicePreferences: { ...current.devicePreferences, ...update.devicePreferences },
      privacySettings: { ...current.privacySettings, ...update.privacySettings },
      updatedAt: now,
    });
    return await ctx.db.get(current._id);
  },
});

function partial<Fields extends Record<string, any>>(fields: Fields) {
  return v.object(
    Object.fromEntries(Object.entries(fields).map(([key, field]) => [key, v.optional(field)])) as {
      [Key in keyof Fields]: ReturnType<typeof v.optional<Fields[Key]>>;
    },
  );
}

async function insertDefaultSubscription(ctx: MutationCtx, userId: string, now: number) {
  const id = await ctx.db.insert("userSubscriptions", defaultSubscription(userId, now));
  return (await ctx.db.get(id))!;
}

/** Erase a user: responses soft-deleted now, every row purged after `days` (0-180, the
 * range of dataRetentionDays), and a request the user's devices read and acknowledge. */
export const scheduleDataDeletion = internalMutation({
  args: { userId: v.string(), days: v.number() },
  handler: async (ctx, { userId, days }) => {
    if (!Number.isFinite(days) || days < 0 || days > 180) {
      throw new Error("days: must be a number from 0 to 180");
    }
    const now = Date.now() / 1000;
    const purgeAt = now + days * DAY_SECONDS;
    const responses = await ctx.db
      .query("voiceResponses")
      .withIndex("by_user", (q) => q.eq("userId", userId))
      .collect();
    for (const response of responses) {
      if (response.deletedAt === undefined) await ctx.db.patch(response._id, { deletedAt: now });
    }
    const existing = await pendingDeletion(ctx, userId);
    const request: Id<"deletionRequests"> =
      existing?._id ??
      (await ctx.db.insert("deletionRequests", { userId, requestedAt: now, purgeAt }));
    await ctx.scheduler.runAt(purgeAt * 1000, internal.edgecoach.purgeUser, { userId });
    return { request, purgeAt };
  },
});

/** Every row of the user, in every table; the deletion request stays until a device
 * acknowledged it (it holds nothing but the user id and times). */
export const purgeUser = internalMutation({
  args: { userId: v.string() },
  handler: async (ctx, { userId }) => {
    let deleted = 0;
    for (const table of USER_TABLES) {
      const rows = await ctx.db
        .query(table)
        .withIndex("by_user", (q) => q.eq("userId", userId))
        .collect();
      for (const row of rows) await ctx.db.delete(row._id);
      deleted += rows.length;
    }
    const rateLimits = await ctx.db
      .query("rateLimits")
      .withIndex("by_user_type", (q) => q.eq("userId", userId))
      .collect();
    for (const row of rateLimits) await ctx.db.delete(row._id);
    const request = await pendingDeletion(ctx, userId);
    if (request?.acknowledgedAt !== undefined) await ctx.db.delete(request._id);
    else if (request !== null) await ctx.db.patch(request._id, { purgedAt: Date.now() / 1000 });
    return { deleted: deleted + rateLimits.length };
  },
});

/** Sanitize a persona's training data again (texts and feedback comments). */
export const anonymizeTrainingData = internalMutation({
  args: { personaId: v.string() },
  handler: async (ctx, { personaId }) => {
    const rows = await ctx.db
      .query("trainingData")
      .withIndex("by_persona", (q) => q.eq("personaId", personaId))
      .collect();
    for (const row of rows) {
      const comments = row.userFeedback?.comments;
      await ctx.db.patch(row._id, {
        inputPrompt: sanitizeText(row.inputPrompt),
        expectedOutput: sanitizeText(row.expectedOutput),
        actualOutput: row.actualOutput === undefined ? undefined : sanitizeText(row.actualOutput),
        userFeedback:
          row.userFeedback === undefined
            ? undefined
            : { ...row.userFeedback, comments: comments && sanitizeText(comments) },
        updatedAt: Date.now() / 1000,
      });
    }
    return { anonymized: rows.length };
  },
});

async function subscriptionOf(ctx: QueryCtx, userId: string) {
  return await ctx.db
    .query("userSubscriptions")
    .withIndex("by_user", (q) => q.eq("userId", userId))
    .first();
}

async function pendingDeletion(ctx: QueryCtx, userId: string) {
  return await ctx.db
    .query("deletionRequests")
    .withIndex("by_user", (q) => q.eq("userId", userId))
    .first();
}
