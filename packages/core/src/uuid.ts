import { randomUUID } from 'node:crypto';

/** A random UUID v4 string (the reference's message and task id form). */
export function uuid4(): string {
  return randomUUID();
}
