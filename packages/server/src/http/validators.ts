import AjvCompiler from '@fastify/ajv-compiler';

const pool = AjvCompiler();
const base = { removeAdditional: false, allErrors: false } as const;

/**
 * Query strings, params and headers are text: their numbers and booleans are coerced, a repeated
 * parameter becomes an array (and so fails a scalar schema). A body says what it means: JSON `"true"`
 * is not `true`, and a string is not a list of one.
 */
export function validators(externalSchemas: unknown, options: { customOptions?: object }) {
  const lenient = pool(externalSchemas as never, { ...options, customOptions: { ...options.customOptions, ...base, coerceTypes: 'array' } } as never);
  const strict = pool(externalSchemas as never, { ...options, customOptions: { ...options.customOptions, ...base, coerceTypes: false } } as never);
  return (route: { httpPart?: string }) => (route.httpPart === 'body' ? strict : lenient)(route as never);
}
