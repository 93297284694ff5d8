// `rebound/client`: a typed client of Rebound's HTTP API. Every operation of the OpenAPI document through
// `request(method, path, options)` (types generated into ./schema.ts by `npm run client:generate`), and methods
// for the common tasks; single lookups made in the same tick are sent as one batch lookup. Runs on Node's
// fetch; imports nothing of the server.
import { ReboundError } from "./errors.js";
import { Transport, type RetryInfo } from "./http.js";
import type {
  CallOptions,
  HttpMethod,
  Operation,
  PathsFor,
  RawBody,
  RequestArgs,
  RequestOptions,
  ResponseData,
} from "./types.js";
import type { components, paths } from "./schema.js";

export { CLIENT_ERROR_CODES, ReboundError } from "./errors.js";
export type { ApiErrorCode, ClientErrorCode, ReboundErrorCode } from "./errors.js";
export type { RetryInfo } from "./http.js";
export type * from "./types.js";

/** The most addresses one batch lookup takes (POST /v1/suppressions/check). */
export const MAX_BATCH_ADDRESSES = 10_000;

export interface ReboundClientOptions {
  /** Where the API is: `http://127.0.0.1:8025`. */
  baseUrl: string;
  /** An API key's token (`rbk_...`). */
  token: string;
  /** Each attempt's limit, in ms (default 30,000; 0: none). An export's body is not limited once it streams. */
  timeoutMs?: number;
  /** Retries of a 429 or 503 answer, after its Retry-After (else 0.5 s, 1 s, 2 s, ...). Default 3. */
  maxRetries?: number;
  /** A Retry-After longer than this is not waited for: the ReboundError is thrown (default 60,000 ms). */
  maxRetryDelayMs?: number;
  /** Single lookups (`lookup`) gathered into one batch: up to `maxAddresses` (default 1,000), or what came within
   * `windowMs` (default 0: the same tick). `false`: every lookup is its own batch of one. */
  batch?: { maxAddresses?: number; windowMs?: number } | false;
  /** Called before each retry (for logging). */
  onRetry?: (info: RetryInfo) => void;
  /** Another fetch (a proxy's, a test's). Default: the global one. */
  fetch?: typeof fetch;
  userAgent?: string;
}

type Schemas = components["schemas"];
type Json<P extends keyof paths, M extends HttpMethod> = ResponseData<Operation<P, M>>;
type Query<P extends keyof paths, M extends HttpMethod> =
  RequestOptions<Operation<P, M>> extends { query?: infer Q } ? NonNullable<Q> : never;
type Body<P extends keyof paths, M extends HttpMethod> =
  Operation<P, M> extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;

/** One answer of a batch lookup: `valid`, `suppressed`, and the governing suppression's `reason`, `class`, ... */
export type LookupResult = Json<"/v1/suppressions/check", "post">["results"][number];
/** The answer of GET /v1/suppressions/{address}: every suppression in force and the events behind them. */
export type SuppressionDetail = Json<"/v1/suppressions/{address}", "get">;
export type Suppression = Schemas["Suppression"];
export type SuppressionQuery = Query<"/v1/suppressions", "get">;
export type SuppressInput = Body<"/v1/suppressions/{address}", "put">;
export type EventQuery = Query<"/v1/events", "get">;
export type ReboundEvent = Json<"/v1/events", "get">["data"][number];
export type StatsQuery = Omit<Query<"/v1/stats", "get">, "format">;
/** GET /v1/stats's answer: an object per point (`format=points`, the default). */
export type Stats = Exclude<Json<"/v1/stats", "get">, { format: "columnar" }>;
/** GET /v1/stats's answer with `format=columnar`: each group's points as one array per figure (`series`). */
export type StatsColumnar = Extract<Json<"/v1/stats", "get">, { format: "columnar" }>;
export type SendsInput = Body<"/v1/sends", "post">;
export type DeliveriesInput = Body<"/v1/deliveries", "post">;
export type VerpInput = Body<"/v1/verp", "post">;
export type VerpAnswer = Json<"/v1/verp", "post">;
export type ExportQuery = Omit<Query<"/v1/exports/suppressions", "get">, "format">;
/** One row of an export (NDJSON; the CSV has the same columns). Hashed: `addressHash` (the keyed hash) instead of `address`. */
export interface ExportedSuppression {
  address?: string;
  addressHash?: string;
  stream: string;
  reason: Suppression["reason"];
  class: Suppression["class"];
  source: Suppression["source"];
  firstSeen: string;
  lastSeen: string;
  expiresAt: string | null;
  count: number;
  rule: string | null;
  note: string | null;
}

interface Waiter {
  address: string;
  resolve(r: LookupResult): void;
  reject(e: unknown): void;
}

interface PendingBatch {
  stream: string | undefined;
  waiters: Waiter[];
  timer: ReturnType<typeof setTimeout>;
}

export class ReboundClient {
  private readonly transport: Transport;
  private readonly batchMax: number;
  private readonly batchWindowMs: number;
  private readonly pending = new Map<string, PendingBatch>();

  constructor(options: ReboundClientOptions) {
    if (!options.baseUrl) throw new TypeError("baseUrl is required (http://host:8025)");
    if (!options.token) throw new TypeError("token is required (an API key)");
    this.transport = new Transport({
      baseUrl: options.baseUrl,
      token: options.token,
      timeoutMs: options.timeoutMs ?? 30_000,
      maxRetries: options.maxRetries ?? 3,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 60_000,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      userAgent: options.userAgent ?? "rebound-client",
      onRetry: options.onRetry,
    });
    const batch = options.batch === false ? { maxAddresses: 1 } : (options.batch ?? {});
    this.batchMax = Math.min(MAX_BATCH_ADDRESSES, Math.max(1, batch.maxAddresses ?? 1000));
    this.batchWindowMs = Math.max(0, batch.windowMs ?? 0);
  }

  /**
   * Any operation of the API, typed from the OpenAPI document: `request("get", "/v1/suppressions/{address}",
   * { path: { address }, query: { stream } })`. Resolves with the answer's JSON (a text body for CSV and NDJSON
   * answers, undefined for 204); rejects with a ReboundError.
   */
  async request<M extends HttpMethod, P extends PathsFor<M>>(
    method: M,
    path: P,
    ...args: RequestArgs<Operation<P, M>>
  ): Promise<ResponseData<Operation<P, M>>> {
    const response = await this.requestRaw(method, path, ...args);
    return (await readAnswer(response.response, response.done)) as ResponseData<Operation<P, M>>;
  }

  /** As `request`, but resolves with the Response itself (its body unread), for streamed answers. */
  async requestRaw<M extends HttpMethod, P extends PathsFor<M>>(
    method: M,
    path: P,
    ...args: RequestArgs<Operation<P, M>>
  ): Promise<{ response: Response; done(): void }> {
    const o = (args[0] ?? {}) as {
      path?: Record<string, string | number>;
      query?: Record<string, unknown>;
      body?: unknown;
      contentType?: string;
    } & CallOptions;
    return this.transport.send({
      method,
      path,
      pathParams: o.path,
      query: o.query,
      body: o.body,
      contentType: o.contentType,
      signal: o.signal,
      timeoutMs: o.timeoutMs,
      headers: o.headers,
    });
  }

  /**
   * May I mail this address (in `stream`)? Lookups made in the same tick (or `batch.windowMs`) for the same
   * stream are sent together as one POST /v1/suppressions/check; an invalid address answers `valid: false`.
   */
  lookup(address: string, options: { stream?: string; signal?: AbortSignal } = {}): Promise<LookupResult> {
    return new Promise<LookupResult>((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) return reject(signal.reason);
      const key = options.stream ?? "\0";
      let batch = this.pending.get(key);
      if (!batch) {
        batch = {
          stream: options.stream,
          waiters: [],
          timer: setTimeout(() => this.flush(key), this.batchWindowMs),
        };
        this.pending.set(key, batch);
      }
      const onAbort = () => reject(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      batch.waiters.push({
        address,
        resolve: (r) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      });
      if (batch.waiters.length >= this.batchMax) this.flush(key);
    });
  }

  private flush(key: string): void {
    const batch = this.pending.get(key);
    if (!batch) return;
    this.pending.delete(key);
    clearTimeout(batch.timer);
    const unique = [...new Set(batch.waiters.map((w) => w.address))];
    this.lookupMany(unique, { stream: batch.stream }).then(
      (results) => {
        const byAddress = new Map(unique.map((a, i) => [a, results[i]]));
        for (const w of batch.waiters) {
          const r = byAddress.get(w.address);
          if (r) w.resolve(r);
          else w.reject(new ReboundError(0, "unexpected_answer", `no answer for ${w.address} in the batch`));
        }
      },
      (err: unknown) => {
        for (const w of batch.waiters) w.reject(err);
      },
    );
  }

  /** Batch lookup: one answer per address, in order (split into requests of 10,000). */
  async lookupMany(
    addresses: readonly string[],
    options: { stream?: string } & CallOptions = {},
  ): Promise<LookupResult[]> {
    const { stream, ...call } = options;
    const out: LookupResult[] = [];
    for (let i = 0; i < addresses.length; i += MAX_BATCH_ADDRESSES) {
      const chunk = addresses.slice(i, i + MAX_BATCH_ADDRESSES);
      const answer = await this.request("post", "/v1/suppressions/check", {
        body: stream === undefined ? { addresses: chunk } : { addresses: chunk, stream },
        ...call,
      });
      const results = answer.results;
      if (results.length !== chunk.length)
        throw new ReboundError(
          0,
          "unexpected_answer",
          `asked about ${chunk.length} addresses, got ${results.length} answers`,
        );
      out.push(...results);
    }
    return out;
  }

  /** GET /v1/suppressions/{address}: every suppression in force for the address, and the events behind them. */
  suppression(address: string, options: { stream?: string } & CallOptions = {}): Promise<SuppressionDetail> {
    const { stream, ...call } = options;
    return this.request("get", "/v1/suppressions/{address}", {
      path: { address },
      query: { stream },
      ...call,
    });
  }

  /** Suppress an address by hand (default: every stream, reason `suppressed`, permanent). */
  suppress(address: string, input: SuppressInput = {}, call: CallOptions = {}) {
    return this.request("put", "/v1/suppressions/{address}", { path: { address }, body: input, ...call });
  }

  /** Remove an address's suppression (in `stream`, else every stream); a ReboundError `not_found` when none. */
  unsuppress(address: string, options: { stream?: string; note?: string } & CallOptions = {}) {
    const { stream, note, ...call } = options;
    return this.request("delete", "/v1/suppressions/{address}", {
      path: { address },
      query: { stream, note },
      ...call,
    });
  }

  /** One page of suppressions (newest first); pass `cursor: nextCursor` for the next. */
  listSuppressions(query: SuppressionQuery = {}, call: CallOptions = {}) {
    return this.request("get", "/v1/suppressions", { query, ...call });
  }

  /** Every suppression matching the filters, page after page. */
  async *suppressions(
    query: Omit<SuppressionQuery, "cursor"> = {},
    call: CallOptions = {},
  ): AsyncGenerator<Suppression> {
    yield* pages((cursor) => this.listSuppressions({ ...query, cursor }, call));
  }

  /** The export (GET /v1/exports/suppressions, NDJSON), row by row as it streams. */
  async *exportSuppressions(
    query: ExportQuery = {},
    call: CallOptions = {},
  ): AsyncGenerator<ExportedSuppression> {
    const { response, done } = await this.requestRaw("get", "/v1/exports/suppressions", {
      query: { ...query, format: "ndjson" },
      ...call,
    });
    // The timeout covers the wait for the answer, not the reading of a long export.
    done();
    for await (const line of lines(response)) yield JSON.parse(line) as ExportedSuppression;
  }

  /** One page of events (most recent first). */
  listEvents(query: EventQuery = {}, call: CallOptions = {}) {
    return this.request("get", "/v1/events", { query, ...call });
  }

  /** Every event matching the filters, page after page. */
  async *events(
    query: Omit<EventQuery, "cursor"> = {},
    call: CallOptions = {},
  ): AsyncGenerator<ReboundEvent> {
    yield* pages((cursor) => this.listEvents({ ...query, cursor }, call));
  }

  /** Sends, bounces and complaints with rates, per group and period. */
  async stats(query: StatsQuery = {}, call: CallOptions = {}): Promise<Stats> {
    return (await this.request("get", "/v1/stats", { query, ...call })) as Stats;
  }

  /**
   * The same figures with each group's points in columns (`series.sent[i]` is point i's sends): about a third of
   * the bytes of `stats` to send and parse, for answers of thousands of points.
   */
  async statsColumnar(query: StatsQuery = {}, call: CallOptions = {}): Promise<StatsColumnar> {
    return (await this.request("get", "/v1/stats", {
      query: { ...query, format: "columnar" },
      ...call,
    })) as StatsColumnar;
  }

  /** Report what was sent (per message, or counts). */
  reportSends(input: SendsInput, call: CallOptions = {}) {
    return this.request("post", "/v1/sends", { body: input, ...call });
  }

  /** Report sends as NDJSON (one record a line), streamed as given. */
  reportSendsNdjson(ndjson: RawBody, call: CallOptions = {}) {
    return this.request("post", "/v1/sends", { body: ndjson, contentType: "application/x-ndjson", ...call });
  }

  /** Report successful deliveries (resets soft-bounce counts). */
  reportDeliveries(input: DeliveriesInput, call: CallOptions = {}) {
    return this.request("post", "/v1/deliveries", { body: input, ...call });
  }

  /** Mint the signed return path (VERP) of one send. */
  verpEncode(input: VerpInput, call: CallOptions = {}): Promise<VerpAnswer> {
    return this.request("post", "/v1/verp", { body: input, ...call });
  }
}

export function createClient(options: ReboundClientOptions): ReboundClient {
  return new ReboundClient(options);
}

async function readAnswer(response: Response, done: () => void): Promise<unknown> {
  try {
    if (response.status === 204) return undefined;
    const type = response.headers.get("content-type") ?? "";
    if (type.includes("application/json")) return await response.json();
    return await response.text();
  } finally {
    done();
  }
}

async function* pages<T>(
  page: (cursor: string | undefined) => Promise<{ data?: T[]; nextCursor?: string | null }>,
): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    yield* p.data ?? [];
    cursor = p.nextCursor ?? undefined;
  } while (cursor);
}

/** The non-empty lines of a streamed body. */
async function* lines(response: Response): AsyncGenerator<string> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    rest += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = rest.indexOf("\n")) >= 0) {
      const line = rest.slice(0, i).trim();
      rest = rest.slice(i + 1);
      if (line) yield line;
    }
  }
  rest += decoder.decode();
  if (rest.trim()) yield rest.trim();
}
