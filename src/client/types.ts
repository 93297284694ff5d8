// Types that read the generated schema (./schema.ts): for any path and method, what the request takes (path and
// query parameters, body) and what a successful answer holds. Types only.
import type { components, paths } from "./schema.js";

export type { components, paths };

export type HttpMethod = "get" | "put" | "post" | "delete" | "patch";

/** The operation of `path` and `method` (never when the path does not take the method). */
export type Operation<P extends keyof paths, M extends HttpMethod> = [NonNullable<paths[P][M]>] extends [
  never,
]
  ? never
  : NonNullable<paths[P][M]>;

/** The paths that take `method`. */
export type PathsFor<M extends HttpMethod> = {
  [P in keyof paths]: [Operation<P, M>] extends [never] ? never : P;
}[keyof paths];

type Params<O> = O extends { parameters: infer X } ? X : object;

type PathPart<O> =
  Params<O> extends { path: infer X }
    ? [X] extends [never]
      ? { path?: undefined }
      : { path: X }
    : { path?: undefined };

type QueryPart<O> =
  Params<O> extends { query: infer X }
    ? [X] extends [never]
      ? { query?: undefined }
      : { query: X }
    : Params<O> extends { query?: infer X }
      ? [NonNullable<X>] extends [never]
        ? { query?: undefined }
        : { query?: NonNullable<X> }
      : { query?: undefined };

/** A body that is sent as it is (CSV, NDJSON): its content type names which. */
export type RawBody = string | Uint8Array | Blob;

type Content<O> = O extends { requestBody?: infer RB }
  ? [NonNullable<RB>] extends [never]
    ? never
    : NonNullable<RB> extends { content: infer C }
      ? C
      : never
  : never;

type BodyPart<O> = [Content<O>] extends [never]
  ? { body?: undefined; contentType?: undefined }
  : | ("application/json" extends keyof Content<O>
        ? { body: Content<O>["application/json" & keyof Content<O>]; contentType?: "application/json" }
        : never)
    | (Exclude<keyof Content<O>, "application/json"> extends never
        ? never
        : { body: RawBody; contentType: Exclude<keyof Content<O>, "application/json"> & string });

export interface CallOptions {
  /** Cancels the request (and any wait before a retry); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Overrides the client's timeout for this call (each attempt), in ms; 0: none. */
  timeoutMs?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

/** What `request(method, path, options)` takes for that operation. */
export type RequestOptions<O> = PathPart<O> & QueryPart<O> & BodyPart<O> & CallOptions;

type Responses<O> = O extends { responses: infer R } ? R : never;
type SuccessCode = 200 | 201 | 202 | 204;
type SuccessContent<O> = {
  [K in keyof Responses<O>]: K extends SuccessCode
    ? Responses<O>[K] extends { content: infer C }
      ? "application/json" extends keyof C
        ? C["application/json" & keyof C]
        : string
      : undefined
    : never;
}[keyof Responses<O>];

/** What a successful answer of the operation holds: its JSON, a text body (CSV, NDJSON), or undefined (204). */
export type ResponseData<O> = SuccessContent<O>;

/** `request`'s arguments after the path: the options, optional when nothing in them is required. */
export type RequestArgs<O> =
  object extends RequestOptions<O> ? [options?: RequestOptions<O>] : [options: RequestOptions<O>];
