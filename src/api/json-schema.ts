// Small pieces of the routes' JSON schemas.

/**
 * An object schema whose every property is always in the answer (its presenter writes each one, null where
 * there is nothing): `required` lists them all, so that the OpenAPI document, and the typed client and the console
 * generated from it, do not call them optional. The serialiser then refuses an answer that lacks one.
 */
export function everyField<S extends { type: unknown; properties: Record<string, unknown> }>(
  schema: S,
): S & { required: (keyof S["properties"] & string)[] } {
  return { ...schema, required: Object.keys(schema.properties) as (keyof S["properties"] & string)[] };
}
