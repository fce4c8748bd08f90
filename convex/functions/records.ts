// The records the device sends, one validator per item kind (docs/upstream.md, "Records").
// A field the device adds that is not here makes its item rejected, and the golden-batch
// tests fail: the two sides cannot drift apart silently.
import { v } from "convex/values";
import { devicePreferences, deviceState, privacySettings, workoutContext } from "./schema";

const feedback = v.object({
  rating: v.number(),
  helpful: v.optional(v.boolean()),
  comments: v.optional(v.string()),
});

export const voiceResponseRecord = v.object({
  id: v.string(),
  userId: v.string(),
  triggerId: v.string(),
  personaId: v.string(),
  textContent: v.string(),
  toastMessage: v.string(),
  audioKey: v.optional(v.string()),
  audioLength: v.number(),
  metadata: v.object({
    generationLatency: v.number(),
    ttsLatency: v.number(),
    cacheHit: v.boolean(),
    modelVersion: v.string(),
    inputTokens: v.number(),
    outputTokens: v.number(),
  }),
  workoutContext,
  deviceState,
  feedback: v.optional(feedback),
  createdAt: v.number(),
});

export const feedbackRecord = v.object({
  responseId: v.string(),
  triggerId: v.string(),
  personaId: v.string(),
  feedback,
});

export const trainingDataRecord = v.object({
  id: v.string(),
  userId: v.string(),
  personaId: v.string(),
  inputPrompt: v.string(),
  expectedOutput: v.optional(v.string()),
  actualOutput: v.string(),
  quality: v.number(),
  userFeedback: v.optional(feedback),
  isValidated: v.boolean(),
  usedInTraining: v.boolean(),
  trainingBatch: v.optional(v.string()),
  responseId: v.optional(v.string()),
  createdAt: v.number(),
});

export const coachingStateRecord = v.object({
  userId: v.string(),
  chattiness: v.string(),
  minGapSeconds: v.number(),
  priorityFloor: v.number(),
  updatedAt: v.optional(v.number()),
  triggers: v.record(
    v.string(),
    v.object({ helpful: v.number(), notHelpful: v.number(), speakChance: v.number() }),
  ),
});

// The settings an athlete changed on the device; the cloud takes only the preferences.
export const subscriptionRecord = v.object({
  userId: v.string(),
  subscriptionType: v.string(),
  voiceAccess: v.boolean(),
  trainingFrequency: v.string(),
  preferredPersona: v.string(),
  devicePreferences,
  privacySettings,
  updatedAt: v.number(),
});

export const RECORDS = {
  voice_response: voiceResponseRecord,
  feedback: feedbackRecord,
  training_data: trainingDataRecord,
  coaching_state: coachingStateRecord,
  subscription: subscriptionRecord,
} as const;

export type ItemKind = keyof typeof RECORDS;
export const ITEM_KINDS = Object.keys(RECORDS) as ItemKind[];

export const ingestItem = v.object({
  id: v.string(),
  kind: v.string(),
  userId: v.string(),
  recordId: v.string(),
  createdAt: v.number(),
  record: v.any(),
});
