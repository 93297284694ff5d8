// The shapes of the API the console reads and sends: names for the client's types, which are generated from the
// server's OpenAPI document (src/client/schema.ts, `npm run client:generate`). Nothing is declared by hand here,
// so a field the API does not have, or a value outside one of its vocabularies, fails `npm run typecheck` (and
// the console's build).
import type { components, paths } from "../../src/client/schema.ts";
import type { HttpMethod, Operation, ResponseData } from "../../src/client/types.ts";

type Schemas = components["schemas"];

/** What a successful answer to `method path` holds (`path` as the OpenAPI document writes it). */
export type Answer<P extends keyof paths, M extends HttpMethod = "get"> = ResponseData<Operation<P, M>>;

/** The query parameters that `method path` takes. */
export type Query<P extends keyof paths, M extends HttpMethod = "get"> = NonNullable<
  Operation<P, M>["parameters"]["query"]
>;

/** The JSON body that `method path` takes. */
export type Body<P extends keyof paths, M extends HttpMethod = "post"> =
  NonNullable<Operation<P, M>["requestBody"]> extends { content: { "application/json": infer B } }
    ? B
    : never;

export type ApiErrorBody = Schemas["Error"];
export type ErrorCode = ApiErrorBody["error"]["code"];

export type Session = Answer<"/v1/session">;
export type Scope = Session["scopes"][number];

/** The default answer (`format=points`); the console does not ask for columns. */
export type Stats = Exclude<Answer<"/v1/stats">, { format: "columnar" }>;
export type StatsGroup = Stats["groups"][number];
export type Figures = StatsGroup["total"];
export type SuppressionCounts = Answer<"/v1/stats/suppressions">;
export type Granularity = Stats["granularity"];

export type CleanMode = NonNullable<Query<"/v1/clean", "post">["mode"]>;

export type AlertRuleList = Answer<"/v1/alerts/rules">;
export type AlertRule = AlertRuleList["rules"][number];
export type Incident = Schemas["Incident"];
export type IncidentList = Answer<"/v1/incidents">;
export type Severity = Incident["severity"];

export type StreamState = Schemas["Stream"];
export type StreamList = Answer<"/v1/streams">;
export type PauseBody = Body<"/v1/streams/{stream}/pause">;
export type ResumeBody = Body<"/v1/streams/{stream}/resume">;

export type EventPage = Answer<"/v1/events">;
export type EventRow = EventPage["data"][number];
export type EventMail = Answer<"/v1/events/{id}/mail">;

export type Suppression = Schemas["Suppression"];
export type SuppressionPage = Answer<"/v1/suppressions">;
export type Lookup = Answer<"/v1/suppressions/{address}">;

export type WebhookList = Answer<"/v1/webhooks">;
export type Webhook = WebhookList["data"][number];
export type DeliveryPage = Answer<"/v1/webhooks/{id}/deliveries">;
export type Delivery = DeliveryPage["data"][number];
