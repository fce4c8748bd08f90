// The seed's tables, field for field, plus what sync with the device needs.
// Where a table differs from the seed, docs/upstream.md ("The cloud side") says why.
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export const workoutContext = v.object({
  // The seed's fields.
  exercise: v.optional(v.string()),
  reps: v.optional(v.number()),
  weight: v.optional(v.number()),
  strain: v.optional(v.number()),
  heartRate: v.optional(v.number()),
  sleepHours: v.optional(v.number()),
  // What the device adds (sets, rest, totals, heart-rate zone).
  setNumber: v.optional(v.number()),
  totalSets: v.optional(v.number()),
  restSeconds: v.optional(v.number()),
  durationSeconds: v.optional(v.number()),
  volume: v.optional(v.number()),
  peakHeartRate: v.optional(v.number()),
  zoneLow: v.optional(v.number()),
  zoneHigh: v.optional(v.number()),
  personalBest: v.optional(v.boolean()),
  lastSet: v.optional(v.boolean()),
});

export const deviceState = v.object({
  hasEarbuds: v.boolean(),
  audioEnabled: v.boolean(),
  platform: v.string(), // "ios" | "android" | "web" | "linux"
});

export const devicePreferences = v.object({
  autoDetectEarbuds: v.boolean(),
  fallbackToSpeaker: v.boolean(),
  toastDuration: v.number(), // ms, 1000-10000
  maxDailyCoaching: v.number(), // lines a day
});

export const privacySettings = v.object({
  allowDataCollection: v.boolean(),
  allowAITraining: v.boolean(),
  dataRetentionDays: v.number(), // 1-180
  excludeBiometrics: v.boolean(),
});

export const userFeedback = v.object({
  rating: v.number(), // 1-5
  helpful: v.boolean(),
  comments: v.optional(v.string()),
});

export default defineSchema({
  aiCoachingPersonas: defineTable({
    id: v.string(), // "alice" | "aiden"
    name: v.string(),
    description: v.string(),
    voiceModel: v.string(),
    voicePreviewUrl: v.string(),
    personality: v.object({
      enthusiasm: v.number(),
      supportiveness: v.number(),
      directness: v.number(),
      communicationStyle: v.string(),
    }),
    trainingPrompts: v.array(v.string()),
    isActive: v.boolean(),
    createdAt: v.number(),
    updatedAt: v.number(),
  }).index("by_id", ["id"]),

  workoutTriggers: defineTable({
    id: v.string(),
    name: v.string(),
    description: v.string(),
    promptTemplate: v.string(),
    requiredContext: v.array(v.string()),
    maxResponseLength: v.number(),
    priority: v.number(), // 1-10
    conditions: v.object({
      deviceRequired: v.optional(v.string()),
      subscriptionLevel: v.optional(v.string()),
      trainingPhase: v.optional(v.string()),
    }),
    isActive: v.boolean(),
    createdAt: v.number(),
    updatedAt: v.number(),
  })
    .index("by_id", ["id"])
    .index("by_priority", ["priority"]),

  voiceResponses: defineTable({
    id: v.string(), // UUID
    userId: v.string(),
    triggerId: v.string(),
    personaId: v.string(),
    textContent: v.string(),
    toastMessage: v.string(),
    audioUrl: v.optional(v.string()),
    // Added: the device's audio-cache key (the audio itself stays on the device).
    audioKey: v.optional(v.string()),
    audioLength: v.optional(v.number()), // seconds
    metadata: v.object({
      generationLatency: v.number(),
      ttsLatency: v.optional(v.number()),
      cacheHit: v.boolean(),
      modelVersion: v.string(),
      inputTokens: v.number(),
      outputTokens: v.number(),
    }),
    workoutContext,
    deviceState,
    feedbackRating: v.optional(v.number()), // 1-5
    feedbackHelpful: v.optional(v.boolean()),
    feedbackComments: v.optional(v.string()),
    deletedAt: v.optional(v.number()),
    createdAt: v.number(),
  })
    .index("by_user", ["userId"])
    .index("by_trigger", ["triggerId"])
    .index("by_persona", ["personaId"])
    .index("by_user_trigger", ["userId", "triggerId"])
    .index("by_created_at", ["createdAt"])
    .index("by_deleted_at", ["deletedAt"])
    // Added: the record id the device sends (upsert of a response rated later).
    .index("by_response_id", ["id"]),

  userSubscriptions: defineTable({
    userId: v.string(),
    subscriptionType: v.string(), // "free" | "pro" | "trainer"
    voiceAccess: v.boolean(),
    trainingFrequency: v.string(),
    preferredPersona: v.string(), // "alice" | "aiden"
    devicePreferences,
    privacySettings,
    usageStats: v.object({
      totalResponses: v.number(),
      monthlyResponses: v.number(),
      averageRating: v.optional(v.number()),
      lastUsed: v.optional(v.number()),
    }),
    isActive: v.boolean(),
    createdAt: v.number(),
    updatedAt: v.number(),
  })
    .index("by_user", ["userId"])
    .index("by_subscription_type", ["subscriptionType"])
    .index("by_active", ["isActive"]),

  trainingData: defineTable({
    id: v.string(), // UUID
    // Added: whose example this is, so a deletion reaches it.
    userId: v.string(),
    responseId: v.optional(v.string()),
    personaId: v.string(),
    inputPrompt: v.string(),
    expectedOutput: v.string(),
    actualOutput: v.optional(v.string()),
    quality: v.optional(v.number()), // 0-1
    userFeedback: v.optional(userFeedback),
    trainingMetrics: v.object({
      loss: v.optional(v.number()),
      accuracy: v.optional(v.number()),
      perplexity: v.optional(v.number()),
    }),
    isValidated: v.boolean(),
    usedInTraining: v.boolean(),
    trainingBatch: v.optional(v.string()),
    createdAt: v.number(),
    updatedAt: v.number(),
  })
    .index("by_persona", ["personaId"])
    .index("by_validated", ["isValidated"])
    .index("by_training_batch", ["trainingBatch"])
    .index("by_quality", ["quality"])
    .index("by_user", ["userId"])
    .index("by_training_id", ["id"]),

  audioCache: defineTable({
    cacheKey: v.string(),
    textContent: v.string(),
    personaId: v.string(),
    audioUrl: v.string(),
    audioLength: v.number(),
    fileSize: v.number(),
    format: v.string(),
    quality: v.string(),
    generationCost: v.number(),
    hitCount: v.number(),
    lastAccessed: v.number(),
    expiresAt: v.number(),
    createdAt: v.number(),
  })
    .index("by_cache_key", ["cacheKey"])
    .index("by_persona", ["personaId"])
    .index("by_expires_at", ["expiresAt"])
    .index("by_hit_count", ["hitCount"])
    .index("by_last_accessed", ["lastAccessed"]),

  rateLimits: defineTable({
    userId: v.string(),
    requestType: v.string(), // "coaching_trigger" | "tts_generation"
    windowStart: v.number(),
    requestCount: v.number(),
    windowSize: v.number(),
    maxRequests: v.number(),
    createdAt: v.number(),
    updatedAt: v.number(),
  })
    .index("by_user_type", ["userId", "requestType"])
    .index("by_window", ["windowStart"]),

  // --- What sync needs (not in the seed) ---

  // Every item ever accepted, by its UUID: a retried batch is answered, not stored twice.
  syncItems: defineTable({
    itemId: v.string(),
    kind: v.string(),
    userId: v.string(),
    recordId: v.string(),
    receivedAt: v.number(),
  })
    .index("by_item_id", ["itemId"])
    .index("by_user", ["userId"]),

  // The talk budget's preferences, one row per user (the newest updatedAt wins).
  coachingStates: defineTable({
    userId: v.string(),
    chattiness: v.string(),
    minGapSeconds: v.number(),
    priorityFloor: v.number(),
    triggers: v.record(
      v.string(),
      v.object({ helpful: v.number(), notHelpful: v.number(), speakChance: v.number() }),
    ),
    updatedAt: v.number(),
  }).index("by_user", ["userId"]),

  // A device's bearer token, stored as its SHA-256; it may act for `userIds` only.
  deviceTokens: defineTable({
    tokenHash: v.string(),
    label: v.string(),
    userIds: v.array(v.string()),
    createdAt: v.number(),
    revokedAt: v.optional(v.number()),
  }).index("by_token_hash", ["tokenHash"]),

  // An erasure asked for in the cloud; devices read it and acknowledge once done.
  deletionRequests: defineTable({
    userId: v.string(),
    requestedAt: v.number(),
    purgeAt: v.number(),
    purgedAt: v.optional(v.number()),
    acknowledgedAt: v.optional(v.number()),
  }).index("by_user", ["userId"]),
});
