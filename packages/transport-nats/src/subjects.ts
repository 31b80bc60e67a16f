import { ValidationError } from '@converge/core';

// A subject token: no whitespace, no '.', no wildcards.
const TOKEN = /^[^\s.*>]+$/;
// Namespaces made of these characters are used verbatim (dots become subject levels).
const PLAIN_NAMESPACE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Whether `s` can be one NATS subject token. */
export function isSubjectToken(s: string): boolean {
  return s.length > 0 && TOKEN.test(s);
}

/** Checks a subject prefix: one or more dot-separated tokens. Throws `ValidationError`. */
export function checkPrefix(prefix: string): string {
  if (typeof prefix !== 'string' || prefix === '' || !prefix.split('.').every(isSubjectToken)) {
    throw new ValidationError(`subjectPrefix ${JSON.stringify(prefix)} is not a valid NATS subject prefix`);
  }
  return prefix;
}

/**
 * The subject token(s) of a topic namespace. Plain namespaces (letters, digits, `_`, `-`,
 * dot-separated) are used as they are; any other namespace becomes `~` + the hex of its UTF-8
 * bytes, so every namespace maps to exactly one valid subject and no two namespaces collide.
 */
export function namespaceSubject(namespace: string): string {
  if (PLAIN_NAMESPACE.test(namespace)) return namespace;
  return '~' + Buffer.from(namespace, 'utf8').toString('hex');
}

/** The subjects a transport uses under one prefix. */
export interface Subjects {
  /** `<prefix>.agent.<id>`: core-NATS directed messages. */
  agent(id: string): string;
  /** `<prefix>.js.agent.<id>`: JetStream directed messages. */
  jsAgent(id: string): string;
  /** `<prefix>.js.agent.>`: what the JetStream stream captures. */
  readonly jsWildcard: string;
  /** `<prefix>.topic.<namespace>`. */
  topic(namespace: string): string;
  /** `<prefix>.broadcast`. */
  readonly broadcast: string;
}

/** Builds the subject names for `prefix`. */
export function subjectsFor(prefix: string): Subjects {
  return {
    agent: (id) => `${prefix}.agent.${id}`,
    jsAgent: (id) => `${prefix}.js.agent.${id}`,
    jsWildcard: `${prefix}.js.agent.>`,
    topic: (ns) => `${prefix}.topic.${namespaceSubject(ns)}`,
    broadcast: `${prefix}.broadcast`,
  };
}

/** Default JetStream stream name for a prefix: upper-cased, non-name characters as `_`. */
export function defaultStreamName(prefix: string): string {
  return `${prefix.replace(/[^A-Za-z0-9_-]/g, '_').toUpperCase()}_AGENTS`;
}
