// Does a JSON value fit a Convex validator? The device's records arrive as `v.any()` (one
// bad item must not fail the batch), so each record is checked here against the same
// validators the schema uses. `null` counts as absent for an optional field, because the
// device writes absent values as null.
import type { GenericValidator } from "convex/values";

type Json = unknown;

/** The first place where `value` does not fit `validator` ("workoutContext.reps: ..."), or null. */
export function misfit(validator: GenericValidator, value: Json, path = "record"): string | null {
  switch (validator.kind) {
    case "any":
      return null;
    case "string":
      return typeof value === "string" ? null : `${path}: must be a string`;
    case "float64":
      return typeof value === "number" && Number.isFinite(value)
        ? null
        : `${path}: must be a finite number`;
    case "boolean":
      return typeof value === "boolean" ? null : `${path}: must be true or false`;
    case "null":
      return value === null ? null : `${path}: must be null`;
    case "literal":
      return value === validator.value ? null : `${path}: must be ${JSON.stringify(validator.value)}`;
    case "array":
      if (!Array.isArray(value)) return `${path}: must be a list`;
      for (const [index, item] of value.entries()) {
        const problem = misfit(validator.element, item, `${path}[${index}]`);
        if (problem !== null) return problem;
      }
      return null;
    case "record":
      if (!isPlainObject(value)) return `${path}: must be an object`;
      for (const [key, item] of Object.entries(value)) {
        const problem = misfit(validator.value, item, `${path}.${key}`);
        if (problem !== null) return problem;
      }
      return null;
    case "union":
      return validator.members.some((member: GenericValidator) => misfit(member, value, path) === null)
        ? null
        : `${path}: does not match any allowed form`;
    case "object":
      return objectMisfit(validator.fields, value, path);
    default:
      return `${path}: cannot be checked (${validator.kind})`;
  }
}

function objectMisfit(
  fields: Record<string, GenericValidator>,
  value: Json,
  path: string,
): string | null {
  if (!isPlainObject(value)) return `${path}: must be an object`;
  for (const key of Object.keys(value)) {
    if (!(key in fields)) return `${path}.${key}: unknown field`;
  }
  for (const [key, field] of Object.entries(fields)) {
    const item = value[key];
    if (item === undefined || item === null) {
      if (field.isOptional === "optional") continue;
      return `${path}.${key}: missing`;
    }
    const problem = misfit(field, item, `${path}.${key}`);
    if (problem !== null) return problem;
  }
  return null;
}

export function isPlainObject(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A copy without the null-valued keys, at any depth (Convex stores absence, not null). */
export function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutNulls) as T;
  if (isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, item]) => item !== null)
        .map(([key, item]) => [key, withoutNulls(item)]),
    ) as T;
  }
  return value;
}
