import { describe, expect, test } from "vitest";
import { sanitizeText, stripBiometrics } from "../functions/privacy";
import {
  validateCoachingTriggerRequest as trigger,
  validateSubscriptionUpdate as update,
} from "../functions/validation";

describe("validateCoachingTriggerRequest", () => {
  test.each(["onboarding", "pre-start", "set-start", "set-end", "strainsync", "workout-end", "hr-zone"])(
    "accepts trigger %s",
    (triggerId) => expect(trigger({ triggerId })).toBeNull(),
  );

  test.each([
    [{}, "triggerId"],
    [{ triggerId: "nap" }, "triggerId"],
    [{ triggerId: "set-end", personaId: "bob" }, "personaId"],
    [{ triggerId: "set-end", personaId: "" }, "personaId"],
    [{ triggerId: "set-end", workoutContext: { reps: 0 } }, "workoutContext.reps"],
    [{ triggerId: "set-end", workoutContext: { reps: -3 } }, "workoutContext.reps"],
    [{ triggerId: "set-end", workoutContext: { weight: -0.5 } }, "workoutContext.weight"],
    [{ triggerId: "set-end", workoutContext: { strain: -1 } }, "workoutContext.strain"],
    [{ triggerId: "set-end", workoutContext: { strain: 101 } }, "workoutContext.strain"],
    [{ triggerId: "set-end", workoutContext: { strain: NaN } }, "workoutContext.strain"],
    [{ triggerId: "set-end", workoutContext: { heartRate: 0 } }, "workoutContext.heartRate"],
    [{ triggerId: "set-end", workoutContext: { heartRate: 251 } }, "workoutContext.heartRate"],
    [{ triggerId: "set-end", workoutContext: { reps: "8" } }, "workoutContext.reps"],
    [{ triggerId: "set-end", workoutContext: "x" }, "workoutContext"],
  ])("refuses %j, naming %s", (request, field) => {
    expect(trigger(request)).toMatch(new RegExp(`^${field.replace(".", "\\.")}:`));
  });

  test("zero weight and zero strain are checked values, and pass", () => {
    expect(trigger({ triggerId: "set-end", workoutContext: { weight: 0, strain: 0, reps: 1 } })).toBeNull();
  });
});

describe("validateSubscriptionUpdate", () => {
  test("only the fields sent are checked", () => {
    expect(update({})).toBeNull();
    expect(update({ preferredPersona: "aiden" })).toBeNull();
    expect(update({ privacySettings: { excludeBiometrics: true } })).toBeNull();
  });

  test.each([
    [{ preferredPersona: "bob" }, "preferredPersona"],
    [{ preferredPersona: "" }, "preferredPersona"],
    [{ subscriptionType: "gold" }, "subscriptionType"],
    [{ subscriptionType: "" }, "subscriptionType"],
    [{ privacySettings: { dataRetentionDays: 0 } }, "privacySettings.dataRetentionDays"],
    [{ privacySettings: { dataRetentionDays: 181 } }, "privacySettings.dataRetentionDays"],
    [{ privacySettings: { dataRetentionDays: 30.5 } }, "privacySettings.dataRetentionDays"],
    [{ devicePreferences: { toastDuration: 0 } }, "devicePreferences.toastDuration"],
    [{ devicePreferences: { toastDuration: 999 } }, "devicePreferences.toastDuration"],
    [{ devicePreferences: { toastDuration: 10001 } }, "devicePreferences.toastDuration"],
    [{ devicePreferences: { maxDailyCoaching: -1 } }, "devicePreferences.maxDailyCoaching"],
    [{ devicePreferences: { maxDailyCoaching: Infinity } }, "devicePreferences.maxDailyCoaching"],
    [{ privacySettings: 3 }, "privacySettings"],
  ])("refuses %j, naming %s", (request, field) => {
    expect(update(request)).toMatch(new RegExp(`^${field.replace(".", "\\.")}:`));
  });

  test("a maxDailyCoaching of 0 is a value (no coaching), accepted as such", () => {
    expect(update({ devicePreferences: { maxDailyCoaching: 0, toastDuration: 1000 } })).toBeNull();
  });
});

describe("sanitizeText", () => {
  test.each([
    ["write to jo.doe+x@mail.example.org now", "write to [EMAIL] now"],
    ["call +44 20 7946 0958", "call [PHONE]"],
    ["call (555) 123-4567", "call [PHONE]"],
    ["call 555.123.4567", "call [PHONE]"],
    ["host 192.168.1.20 down", "host [IP] down"],
    ["8 reps at 60 kg, heart rate 150", "8 reps at 60 kg, heart rate 150"],
    ["version 1.2.3.4.5 stays", "version 1.2.3.4.5 stays"],
  ])("%s", (text, expected) => expect(sanitizeText(text)).toBe(expected));
});

test("stripBiometrics removes the fields at any depth", () => {
  expect(
    stripBiometrics({ heartRate: 1, a: [{ strain: 2, b: 3 }], c: { sleepHours: 7, zoneLow: 100 } }),
  ).toEqual({ a: [{ b: 3 }], c: {} });
});
