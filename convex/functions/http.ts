// The device's endpoint: the Convex HTTP API's shape (`POST /api/mutation` and
// `/api/query` with `{path, args, format}`, replies `{status, value | errorMessage}`)
// served by an HTTP action on the deployment's .convex.site URL, so that every call
// carries a device token. An unknown or revoked token gets 401 and nothing runs.
import { httpRouter } from "convex/server";
import { internal } from "./_generated/api";
import { httpAction, type ActionCtx } from "./_generated/server";
import { tokenHash } from "./devices";

type Device = { id: any; userIds: string[] };
type Call = (ctx: ActionCtx, device: Device, args: Record<string, any>) => Promise<unknown>;

const MUTATIONS: Record<string, Call> = {
  "edgecoach:ingestBatch": (ctx, device, args) =>
    ctx.runMutation(internal.edgecoach.ingestBatch, {
      device: device.id,
      protocol: args.protocol,
      items: args.items,
    }),
  "edgecoach:acknowledgeDeletion": (ctx, device, args) =>
    ctx.runMutation(internal.edgecoach.acknowledgeDeletion, {
      device: device.id,
      userId: args.userId,
    }),
};

const QUERIES: Record<string, Call> = {
  "edgecoach:deviceState": async (ctx, device, args) => {
    if (!device.userIds.includes(args.userId)) throw new Forbidden();
    return await ctx.runQuery(internal.edgecoach.deviceState, {
      userId: args.userId,
      since: args.since ?? undefined,
    });
  },
};

class Forbidden extends Error {
  constructor() {
    super("this device may not read that user");
  }
}

function reply(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

function error(status: number, message: string): Response {
  return reply(status, { status: "error", errorMessage: message });
}

function endpoint(functions: Record<string, Call>) {
  return httpAction(async (ctx, request) => {
    const match = /^Bearer (\S+)$/.exec(request.headers.get("Authorization") ?? "");
    const device =
      match === null
        ? null
        : await ctx.runQuery(internal.devices.deviceForTokenHash, {
            tokenHash: await tokenHash(match[1]),
          });
    if (device === null) return error(401, "Unauthenticated: unknown device token");
    let body: { path?: unknown; args?: unknown };
    try {
      body = await request.json();
    } catch {
      return error(400, "the body is not JSON");
    }
    const call = typeof body?.path === "string" ? functions[body.path] : undefined;
    if (call === undefined) return error(404, `Could not find function for ${JSON.stringify(body?.path)}`);
    const args = body.args;
    if (typeof args !== "object" || args === null || Array.isArray(args)) {
      return error(400, "args: must be an object");
    }
    try {
      return reply(200, { status: "success", value: await call(ctx, device, args) });
    } catch (failure) {
      if (failure instanceof Forbidden) return error(403, failure.message);
      return error(560, failure instanceof Error ? failure.message : String(failure));
    }
  });
}

const http = httpRouter();
http.route({ path: "/api/mutation", method: "POST", handler: endpoint(MUTATIONS) });
http.route({ path: "/api/query", method: "POST", handler: endpoint(QUERIES) });
export default http;
