import { ConvergeError, PolicyError, errorClass, type ConvergeErrorOptions } from '@converge/core';

/** A decision whose type no handler knows. */
export class UnknownDecisionError extends ConvergeError {
  /** The unknown decision type. */
  readonly decisionType: string;
  constructor(type: string, options?: ConvergeErrorOptions) {
    super(`no handler for decision type ${JSON.stringify(type)}`, 'ERR_UNKNOWN_DECISION', options);
    this.name = 'UnknownDecisionError';
    this.decisionType = type;
  }
}

/** A decision that needs a service (task manager, tools…) the executor was not given. */
export class NotConfiguredError extends ConvergeError {
  constructor(what: string, options?: ConvergeErrorOptions) {
    super(`${what} is not configured on this executor`, 'ERR_NOT_CONFIGURED', options);
    this.name = 'NotConfiguredError';
  }
}

/** A decision skipped because an earlier decision of the same batch on the same task failed. */
export class SkippedDecisionError extends errorClass('SkippedDecisionError', 'ERR_SKIPPED') {}

/**
 * A message refused because a topic of it routes to an endpoint (`transport.tcp` host:port)
 * that is not allowed: not configured (`allowEndpoints`) nor the recipient's known address.
 */
export class EndpointNotAllowedError extends PolicyError {
  /** The refused endpoint, `host:port`. */
  readonly endpoint: string;
  constructor(endpoint: string, options?: ConvergeErrorOptions) {
    super(`endpoint ${endpoint} is not allowed: not configured in allowEndpoints nor the recipient's known address`, {
      ...options,
      code: 'ERR_ENDPOINT_NOT_ALLOWED',
    });
    this.name = 'EndpointNotAllowedError';
    this.endpoint = endpoint;
  }
}
