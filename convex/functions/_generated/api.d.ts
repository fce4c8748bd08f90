/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import type * as conformity from "../conformity.js";
import type * as devices from "../devices.js";
import type * as edgecoach from "../edgecoach.js";
import type * as http from "../http.js";
import type * as ingest from "../ingest.js";
import type * as privacy from "../privacy.js";
import type * as records from "../records.js";
import type * as validation from "../validation.js";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
declare const fullApi: ApiFromModules<{
  conformity: typeof conformity;
  devices: typeof devices;
  edgecoach: typeof edgecoach;
  http: typeof http;
  ingest: typeof ingest;
  privacy: typeof privacy;
  records: typeof records;
  validation: typeof validation;
}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;
