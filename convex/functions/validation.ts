// The seed's validation rules, with a value checked whenever it is present: the seed's
// versions test truthiness, so `reps: 0`, `weight: 0` or `dataRetentionDays: 0` slipped
// through as "absent". Each returns the first problem, naming the field, or null.

export const TRIGGER_IDS = [
  "onboarding",
  "pre-start",
  "set-start",
  "set-end",
  "strainsync",
  "workout-end",
  "hr-zone",
] as const;
export const PERSONA_IDS = ["alice", "aiden"] as const;
export const SUBSCRIPTION_TYPES = ["free", "pro", "trainer"] as const;
export const HEART_RATE_MIN = 25;
export const HEART_RATE_MAX = 250;

type Problem = string | null;
type Bounds = [field: string, low: number, high: number, whole?: "whole"];

// The device's bounds (edgecoach.contract.events.WorkoutContext), so both sides agree.
const CONTEXT_BOUNDS: Bounds[] = [
  ["reps", 1, 1000, "whole"],
  ["weight", 0, 1000],
  ["strain", 0, 100],
  ["heartRate", HEART_RATE_MIN, HEART_RATE_MAX, "whole"],
  ["peakHeartRate", HEART_RATE_MIN, HEART_RATE_MAX, "whole"],
  ["zoneLow", HEART_RATE_MIN, HEART_RATE_MAX, "whole"],
  ["zoneHigh", HEART_RATE_MIN, HEART_RATE_MAX, "whole"],
  ["sleepHours", 0, 24],
  ["setNumber", 1, 1000, "whole"],
  ["totalSets", 0, 10000, "whole"],
  ["restSeconds", 0, 3600, "whole"],
  ["durationSeconds", 0, 86400],
  ["volume", 0, 1_000_000],
];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A present value must be a finite number in [low, high] (a whole one if so marked). */
export function checkRange(
  object: Record<string, unknown>,
  path: string,
  [field, low, high, whole]: Bounds,
): Problem {
  const value = object[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !Number.isFinite(value) || value < low || value > high) {
    return `${path}${field}: must be a number from ${low} to ${high}`;
  }
  if (whole && !Number.isInteger(value)) return `${path}${field}: must be a whole number`;
  return null;
}

function checkOneOf(
  object: Record<string, unknown>,
  field: string,
  allowed: readonly string[],
  required: boolean,
): Problem {
  const value = object[field];
  if (value === undefined && !required) return null;
  if (typeof value !== "string" || !allowed.includes(value)) {
    return `${field}: must be one of ${allowed.join(", ")}`;
  }
  return null;
}

function firstProblem(checks: (() => Problem)[]): Problem {
  for (const check of checks) {
    const problem = check();
    if (problem !== null) return problem;
  }
  return null;
}

/** A coaching trigger request: `{triggerId, personaId?, workoutContext?}`. */
export function validateCoachingTriggerRequest(request: unknown): Problem {
  if (!isObject(request)) return "request: must be an object";
  const context = request.workoutContext;
  if (context !== undefined && !isObject(context)) return "workoutContext: must be an object";
  return firstProblem([
    () => checkOneOf(request, "triggerId", TRIGGER_IDS, true),
    () => checkOneOf(request, "personaId", PERSONA_IDS, false),
    ...CONTEXT_BOUNDS.map((bounds) => () =>
      context === undefined ? null : checkRange(context, "workoutContext.", bounds),
    ),
  ]);
}

/** A partial subscription update: only the fields present are checked. */
export function validateSubscriptionUpdate(update: unknown): Problem {
  if (!isObject(update)) return "update: must be an object";
  const privacy = update.privacySettings;
  const device = update.devicePreferences;
  if (privacy !== undefined && !isObject(privacy)) return "privacySettings: must be an object";
  if (device !== undefined && !isObject(device)) return "devicePreferences: must be an object";
  return firstProblem([
    () => checkOneOf(update, "preferredPersona", PERSONA_IDS, false),
    () => checkOneOf(update, "subscriptionType", SUBSCRIPTION_TYPES, false),
    () =>
      privacy === undefined
        ? null
        : checkInteger(privacy, "privacySettings.", ["dataRetentionDays", 1, 180]),
    () =>
      device === undefined
        ? null
        : checkInteger(device, "devicePreferences.", ["toastDuration", 1000, 10000]),
    () =>
      device === undefined
        ? null
        : checkInteger(device, "devicePreferences.", ["maxDailyCoaching", 0, 10000]),
  ]);
}

function checkInteger(object: Record<string, unknown>, path: string, bounds: Bounds): Problem {
  return checkRange(object, path, [bounds[0], bounds[1], bounds[2], "whole"]);
}
