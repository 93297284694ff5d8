// Query parameters shared by the report routes (DMARC, TLS reports, authentication).
import { ApiError } from "./errors.js";

export const DOMAIN_PARAM = {
  type: "string",
  minLength: 1,
  maxLength: 253,
  pattern: "^[A-Za-z0-9._-]+$",
} as const;

export const IP_PARAM = {
  type: "string",
  minLength: 2,
  maxLength: 45,
  pattern: "^[0-9A-Fa-f:.]+$",
  description: "an IPv4 or IPv6 address as the reports write it",
} as const;

export const nullableTime = { type: ["string", "null"], format: "date-time" } as const;

export function dateParam(name: string, v: string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime()))
    throw new ApiError(400, "validation_failed", `${name} is not a date-time: ${v}`);
  return d;
}
