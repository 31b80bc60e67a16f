import { randomUUID } from '#platform';

/** A random UUID v4 string (the reference's message and task id form). */
export function uuid4(): string {
  return randomUUID();
}
