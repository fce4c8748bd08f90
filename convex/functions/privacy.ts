// What may be kept: the same text sanitizing and biometrics filter as the device's
// edgecoach.privacy (the patterns are the device's, not the seed's looser ones).

const OCTET = String.raw`(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;
const IPV4 = new RegExp(String.raw`(?<![\w.])${OCTET}(?:\.${OCTET}){3}(?![\w.]*\d)`, "g");
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
// Nine or more digits in phone-like groups: +44 20 7946 0958, (555) 123-4567, 555.123.4567.
const PHONE =
  /(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]?\d{2,4}){1,3}(?!\w)/g;
const MIN_PHONE_DIGITS = 9;

export const BIOMETRIC_FIELDS = new Set([
  "heartRate",
  "peakHeartRate",
  "strain",
  "sleepHours",
  "zoneLow",
  "zoneHigh",
]);

/** Emails, IPv4 addresses and phone numbers become [EMAIL], [IP], [PHONE]. */
export function sanitizeText(text: string): string {
  return text
    .replace(EMAIL, "[EMAIL]")
    .replace(IPV4, "[IP]")
    .replace(PHONE, (match) =>
      (match.match(/\d/g) ?? []).length >= MIN_PHONE_DIGITS ? "[PHONE]" : match,
    );
}

/** A copy without any biometric key, at any depth. */
export function stripBiometrics<T>(value: T): T {
  if (Array.isArray(value)) return value.map(stripBiometrics) as T;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !BIOMETRIC_FIELDS.has(key))
        .map(([key, item]) => [key, stripBiometrics(item)]),
    ) as T;
  }
  return value;
}
