// Device tokens: made once per device (`npx convex run devices:createDeviceToken`), kept
// only as their SHA-256, checked by http.ts on every call.
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalAction, internalMutation, internalQuery } from "./_generated/server";

const TOKEN_BYTES = 32;

export async function tokenHash(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A new token for a device that acts for `userIds`; the token is shown once, here. */
export const createDeviceToken = internalAction({
  args: { label: v.string(), userIds: v.array(v.string()) },
  handler: async (ctx, { label, userIds }): Promise<{ token: string }> => {
    if (userIds.length === 0 || userIds.some((userId) => userId === "")) {
      throw new Error("userIds: name at least one user, none empty");
    }
    const bytes = crypto.getRandomValues(new Uint8Array(TOKEN_BYTES));
    const token = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
    await ctx.runMutation(internal.devices.storeDeviceToken, {
      tokenHash: await tokenHash(token),
      label,
      userIds,
    });
    return { token };
  },
});

export const storeDeviceToken = internalMutation({
  args: { tokenHash: v.string(), label: v.string(), userIds: v.array(v.string()) },
  handler: async (ctx, args) => {
    return await ctx.db.insert("deviceTokens", { ...args, createdAt: Date.now() / 1000 });
  },
});

/** A device's tokens stop working at once. */
export const revokeDeviceTokens = internalMutation({
  args: { label: v.string() },
  handler: async (ctx, { label }) => {
    const tokens = await ctx.db.query("deviceTokens").collect();
    const now = Date.now() / 1000;
    const revoked = tokens.filter((token) => token.label === label && token.revokedAt === undefined);
    for (const token of revoked) await ctx.db.patch(token._id, { revokedAt: now });
    return { revoked: revoked.length };
  },
});

/** The live token with this hash, or null. */
export const deviceForTokenHash = internalQuery({
  args: { tokenHash: v.string() },
  handler: async (ctx, { tokenHash }) => {
    const token = await ctx.db
      .query("deviceTokens")
      .withIndex("by_token_hash", (q) => q.eq("tokenHash", tokenHash))
      .unique();
    return token === null || token.revokedAt !== undefined
      ? null
      : { id: token._id, userIds: token.userIds };
  },
});
