// POST /v1/ingest/{ses,sendgrid,mailgun,postmark}: ESP event webhooks. No API key: each request is authenticated
// by what its provider signs it with (SNS signature, SendGrid ECDSA, Mailgun HMAC, Postmark basic auth) against
// the endpoints of REBOUND_ESP_CONFIG, and belongs to the tenant of the endpoint whose key verified it. An
// unsigned, wrongly signed or stale (replayed) request is refused with 401 and records nothing.
//
// A refused verification counts against the client IP (a token bucket per IP, in this process): past
// REBOUND_ESP_FAILURES_PER_MINUTE, further refusals are answered 429 with Retry-After instead of 401. A request
// that verifies is never limited, even from an IP that failed before: ESPs post from shared address pools, where
// another customer's misconfigured (or hostile) webhook must not hold up ours. Every request is counted in
// rebound_esp_requests_total (provider, outcome), the items of accepted ones in rebound_esp_events_total.
//
// Bodies are read as text (SNS posts `text/plain`; SendGrid signs the raw bytes), then parsed here.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { EspTarget } from "../../core/esp/attribute.js";
import { readMailgunEvent } from "../../core/esp/mailgun.js";
import { readPostmarkRecord } from "../../core/esp/postmark.js";
import { readSendgridEvent } from "../../core/esp/sendgrid.js";
import { readSesNotification } from "../../core/esp/ses.js";
import {
  basicCredentials,
  isFresh,
  sameSecret,
  snsMessageOf,
  verifyMailgun,
  verifySendgrid,
  verifySns,
  type SnsMessage,
} from "../../core/esp/signatures.js";
import { dateOf, isEspProvider, obj, str, type EspItem, type EspProvider } from "../../core/esp/types.js";
import type { Policy } from "../../core/policy-config.js";
import { recordEspItems, type EspOutcome } from "../../integrations/esp/record.js";
import {
  loadEspSettings,
  NO_ESP,
  type EspEndpoint,
  type EspSettings,
  type SesEndpoint,
} from "../../integrations/esp/settings.js";
import { createMetrics, type EspRequestOutcome } from "../../metrics.js";
import { loadPolicy } from "../../policy-file.js";
import type { ApiDeps } from "../deps.js";
import { ApiError } from "../errors.js";
import { RateLimiter } from "../ratelimit.js";

/** Events of one SendGrid request at most (SendGrid posts batches of a few hundred kilobytes). */
export const MAX_EVENTS_PER_REQUEST = 10_000;
/** How long a subscription's confirmation may take. */
const CONFIRM_TIMEOUT_MS = 10_000;
/** Where SNS's SubscribeURLs point (nothing else is fetched). */
const SNS_HOST = /^sns\.[a-z0-9-]{1,30}\.amazonaws\.com(?:\.cn)?$/;

const SUBSCRIPTION = ["confirmed", "logged", "failed", "unsubscribed"] as const;

const answerSchema = {
  type: "object",
  required: ["recorded", "duplicates", "ignored", "invalid", "problems", "eventIds"],
  additionalProperties: false,
  properties: {
    recorded: { type: "integer", description: "Events recorded now" },
    duplicates: { type: "integer", description: "Events recorded before (the provider sent them again)" },
    ignored: { type: "integer", description: "Events of types Rebound does not record (opens, clicks, ...)" },
    invalid: { type: "integer", description: "Items that are no event Rebound can record" },
    problems: {
      type: "array",
      items: { type: "string" },
      description: "Why, for the first few invalid items",
    },
    eventIds: { type: "array", items: { type: "string" }, description: "The events recorded now" },
    subscription: {
      type: "string",
      enum: [...SUBSCRIPTION],
      description: "SNS subscription messages: what was done with the SubscribeURL",
    },
  },
} as const;

type Answer = EspOutcome & { subscription?: (typeof SUBSCRIPTION)[number] };

const EMPTY: EspOutcome = { recorded: 0, duplicates: 0, ignored: 0, invalid: 0, problems: [], eventIds: [] };

/** Client IPs whose refusals are counted at once (the least recently refused are forgotten beyond). */
const MAX_FAILING_IPS = 100_000;

/** A failed verification: 401, counted against the client IP. */
class Refusal extends ApiError {
  constructor(
    readonly outcome: Extract<EspRequestOutcome, "unsigned" | "bad_signature" | "unknown_endpoint" | "stale">,
    message: string,
  ) {
    super(401, "unauthorized", message);
  }
}

const refuse = (outcome: Refusal["outcome"], message: string) => new Refusal(outcome, message);

/**
 * The outcome label of a request its handler did not name: refused before it ran (a body over the limit, a bad
 * content type), or by an error it threw.
 */
function outcomeOf(status: number): EspRequestOutcome {
  if (status === 404) return "not_configured";
  if (status === 413) return "too_large";
  return "malformed";
}

function parseJson(body: unknown): unknown {
  const text = typeof body === "string" ? body : "";
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "malformed_json", "the body is not JSON");
  }
}

export default async function ingest(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const now = deps.now ?? (() => new Date());
  const settings: EspSettings = deps.config.espConfigPath
    ? loadEspSettings(deps.config.espConfigPath, {
        tenant: deps.config.defaultTenant,
        stream: deps.config.defaultStream,
      })
    : NO_ESP;
  for (const e of settings.ses)
    if (!e.verifySignature)
      app.log.warn(
        { endpoint: e.name },
        "ESP endpoint takes SNS messages on their TopicArn alone (verifySignature: false): keep it private",
      );
  const maxAgeMs = deps.config.espMaxAgeMinutes * 60_000;
  const metrics = deps.metrics ?? createMetrics({ processMetrics: false });
  const failures = new RateLimiter(MAX_FAILING_IPS);
  const perMinute = deps.config.espFailuresPerMinute;

  // Each request counted once it is answered: by the outcome its handler noted, else by its status code (refused
  // before the handler: body too large, bad content type).
  const outcomes = new WeakMap<FastifyRequest, EspRequestOutcome>();
  app.addHook("onResponse", async (request, reply) => {
    const provider = (request.routeOptions.url ?? "").split("/").pop() ?? "";
    if (!isEspProvider(provider)) return;
    metrics.espRequests.inc({ provider, outcome: outcomes.get(request) ?? outcomeOf(reply.statusCode) });
  });

  /** Note the request's outcome; a refusal past the IP's allowance becomes a 429. */
  const guarded =
    (provider: EspProvider, handle: (request: FastifyRequest, reply: FastifyReply) => Promise<Answer>) =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<Answer> => {
      try {
        const answer = await handle(request, reply);
        outcomes.set(request, "accepted");
        const counts = {
          recorded: answer.recorded,
          duplicate: answer.duplicates,
          ignored: answer.ignored,
          invalid: answer.invalid,
        };
        for (const [result, n] of Object.entries(counts))
          if (n > 0) metrics.espEvents.inc({ provider, result }, n);
        return answer;
      } catch (err) {
        if (!(err instanceof Refusal)) throw err;
        const d = failures.take(request.ip, perMinute, Date.now());
        if (d.allowed) {
          outcomes.set(request, err.outcome);
          throw err;
        }
        outcomes.set(request, "rate_limited");
        request.log.warn(
          { ip: request.ip, provider, refused: err.outcome },
          "ESP webhook: too many refused requests from this address",
        );
        throw new ApiError(
          429,
          "rate_limited",
          `too many refused ${provider} webhook requests from this address (${err.message}); try again in ${d.retryAfterSeconds} s`,
          { espFailuresPerMinute: perMinute, refused: err.outcome },
          { "retry-after": String(d.retryAfterSeconds) },
        );
      }
    };
  let policy: Policy | undefined;
  const getPolicy = () => (policy ??= loadPolicy(deps.config));

  // Every body as text, whatever its type: the signature covers its bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => done(null, body));

  const configured = (provider: EspProvider, list: readonly unknown[]) => {
    if (!list.length)
      throw new ApiError(
        404,
        "not_found",
        `no ${provider} endpoint is configured (REBOUND_ESP_CONFIG; see docs/integrations.md)`,
      );
  };

  const record = (provider: EspProvider, ep: EspEndpoint, items: EspItem[]) => {
    const target: EspTarget = {
      tenant: ep.tenant,
      stream: ep.stream,
      streams: deps.config.streams,
      caseSensitiveLocalPart: deps.config.caseSensitiveLocalPart,
    };
    return recordEspItems(
      { db: deps.db, policy: getPolicy(), hashAddress: deps.hashAddress, now, providers: deps.providers },
      provider,
      target,
      items,
    );
  };

  const route = (summary: string, description: string) => ({
    config: { accepts: ["application/json", "text/plain"] },
    schema: {
      tags: ["ingest"],
      summary,
      description,
      security: [],
      response: { 200: answerSchema },
    },
  });

  app.post(
    "/ses",
    route(
      "Amazon SES notifications through SNS (bounces, complaints, deliveries)",
      "An SNS HTTP(S) subscription's messages. The signature is checked against the configured SNS certificate " +
        "and the TopicArn against the endpoint's topics; SubscriptionConfirmation is confirmed (or logged).",
    ),
    guarded("ses", async (request): Promise<Answer> => {
      configured("ses", settings.ses);
      const m = snsMessageOf(parseJson(request.body));
      if ("invalid" in m) throw refuse("unsigned", `not a signed SNS message: ${m.invalid}`);
      const ep = settings.ses.find((e) => e.topicArns.includes(m.TopicArn));
      if (!ep) throw refuse("unknown_endpoint", "the message's TopicArn is not one of a configured endpoint");
      if (ep.verifySignature && !verifySns(m, ep.keys)) {
        // SNS rotates its certificate: the one to configure is at the message's SigningCertURL.
        request.log.warn(
          { endpoint: ep.name, topicArn: m.TopicArn, signingCertUrl: m.SigningCertURL },
          "SNS signature does not verify with the configured certificate",
        );
        throw refuse("bad_signature", "the SNS signature does not verify with the configured certificate");
      }
      if (!isFresh(dateOf(m.Timestamp), now(), maxAgeMs))
        throw refuse(
          "stale",
          `the SNS message's Timestamp is further than ${deps.config.espMaxAgeMinutes} minutes from now`,
        );
      if (m.Type !== "Notification") return { ...EMPTY, subscription: await subscription(request, ep, m) };
      // Signed, but no SES notification (a message published to the topic by hand): answered, so that SNS does
      // not retry it, and named.
      let notification: unknown;
      try {
        notification = JSON.parse(m.Message);
      } catch {
        notification = undefined;
      }
      return record(
        "ses",
        ep,
        notification === undefined
          ? [{ invalid: "the SNS message's Message is not an SES notification (JSON)" }]
          : readSesNotification(notification, now()),
      );
    }),
  );

  app.post(
    "/sendgrid",
    route(
      "SendGrid Event Webhook (signed)",
      "The Signed Event Webhook: `X-Twilio-Email-Event-Webhook-Signature` (ECDSA) over " +
        "`X-Twilio-Email-Event-Webhook-Timestamp` and the body, checked with the endpoint's verification key.",
    ),
    guarded("sendgrid", async (request): Promise<Answer> => {
      configured("sendgrid", settings.sendgrid);
      const signature = header(request, "x-twilio-email-event-webhook-signature");
      const timestamp = header(request, "x-twilio-email-event-webhook-timestamp");
      if (!signature || !timestamp)
        throw refuse("unsigned", "the request is not signed (X-Twilio-Email-Event-Webhook-*)");
      if (!/^[0-9]{1,12}$/.test(timestamp) || !isFresh(dateOf(timestamp), now(), maxAgeMs))
        throw refuse(
          "stale",
          `the signed timestamp is further than ${deps.config.espMaxAgeMinutes} minutes from now`,
        );
      const raw = Buffer.from(typeof request.body === "string" ? request.body : "", "utf8");
      const ep = settings.sendgrid.find((e) => verifySendgrid(e.key, timestamp, raw, signature));
      if (!ep) throw refuse("bad_signature", "the signature does not verify with a configured SendGrid key");
      const events = parseJson(request.body);
      if (!Array.isArray(events))
        throw new ApiError(400, "validation_failed", "the body is not an array of events");
      if (events.length > MAX_EVENTS_PER_REQUEST)
        throw new ApiError(
          413,
          "payload_too_large",
          `more than ${MAX_EVENTS_PER_REQUEST} events in one request`,
        );
      const at = now();
      return record(
        "sendgrid",
        ep,
        events.map((e) => readSendgridEvent(e, at)),
      );
    }),
  );

  app.post(
    "/mailgun",
    route(
      "Mailgun webhooks (signed)",
      "A webhook's JSON body: `signature` (HMAC-SHA256 of timestamp and token with the signing key) and `event-data`.",
    ),
    guarded("mailgun", async (request): Promise<Answer> => {
      configured("mailgun", settings.mailgun);
      const body = obj(parseJson(request.body));
      const sig = obj(body?.signature);
      const timestamp = str(sig?.timestamp);
      const token = str(sig?.token);
      const signature = str(sig?.signature);
      if (!timestamp || !token || !signature)
        throw refuse("unsigned", "the request is not signed (`signature`)");
      if (!/^[0-9]{1,12}$/.test(timestamp) || !isFresh(dateOf(timestamp), now(), maxAgeMs))
        throw refuse(
          "stale",
          `the signed timestamp is further than ${deps.config.espMaxAgeMinutes} minutes from now`,
        );
      const ep = settings.mailgun.find((e) => verifyMailgun(e.signingKey, timestamp, token, signature));
      if (!ep)
        throw refuse("bad_signature", "the signature does not verify with a configured Mailgun signing key");
      return record("mailgun", ep, [readMailgunEvent(body?.["event-data"], now())]);
    }),
  );

  app.post(
    "/postmark",
    route(
      "Postmark webhooks (basic authentication)",
      "Bounce, spam complaint and delivery webhooks, with the endpoint's user and password in the URL.",
    ),
    guarded("postmark", async (request, reply): Promise<Answer> => {
      configured("postmark", settings.postmark);
      const creds = basicCredentials(request.headers.authorization);
      const ep =
        creds &&
        settings.postmark.find(
          (e) => sameSecret(e.user, creds.user) && sameSecret(e.password, creds.password),
        );
      if (!ep) {
        reply.header("www-authenticate", 'Basic realm="rebound"');
        throw refuse(
          creds ? "bad_signature" : "unsigned",
          "the request's basic authentication is not a configured Postmark endpoint's",
        );
      }
      return record("postmark", ep, [readPostmarkRecord(parseJson(request.body), now())]);
    }),
  );

  /** A (verified) subscription message: confirmed when the endpoint says so, else logged for an operator. */
  async function subscription(
    request: FastifyRequest,
    ep: SesEndpoint,
    m: SnsMessage,
  ): Promise<(typeof SUBSCRIPTION)[number]> {
    const log = {
      endpoint: ep.name,
      topicArn: m.TopicArn,
      subscribeUrl: m.SubscribeURL,
      signingCertUrl: m.SigningCertURL,
    };
    if (m.Type === "UnsubscribeConfirmation") {
      request.log.warn(
        log,
        "SNS says this endpoint was unsubscribed from the topic (open the URL to subscribe again)",
      );
      return "unsubscribed";
    }
    if (!ep.confirmSubscriptions) {
      request.log.warn(
        log,
        "SNS subscription to confirm: open the SubscribeURL (or set confirmSubscriptions)",
      );
      return "logged";
    }
    let url: URL | undefined;
    try {
      url = new URL(m.SubscribeURL ?? "");
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== "https:" || !SNS_HOST.test(url.hostname)) {
      request.log.warn(
        log,
        "SNS SubscribeURL is not an https://sns.<region>.amazonaws.com/ URL: not fetched",
      );
      return "failed";
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(CONFIRM_TIMEOUT_MS), redirect: "error" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      request.log.info(log, "SNS subscription confirmed");
      return "confirmed";
    } catch (err) {
      request.log.warn(
        { ...log, err },
        "SNS subscription could not be confirmed: open the SubscribeURL by hand",
      );
      return "failed";
    }
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return typeof v === "string" && v.length <= 1024 ? v.trim() : undefined;
}
