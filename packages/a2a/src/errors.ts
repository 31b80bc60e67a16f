/**
 * Errors of the A2A bridge: one class per condition, each a Converge error (stable `code`,
 * standard `cause`), so that `statusOfError` (core's outcome mapping) sees what they mean.
 */
import { ConflictError, PolicyError, SignatureError, errorClass, type ConvergeErrorOptions } from '@converge/core';

/** A remote agent card that could not be fetched or is not a valid A2A card. */
export class AgentCardError extends errorClass('AgentCardError', 'ERR_A2A_AGENT_CARD') {}

/** A remote agent card whose signature is missing, malformed or does not verify. */
export class AgentCardSignatureError extends errorClass('AgentCardSignatureError', 'ERR_A2A_CARD_SIGNATURE', undefined, SignatureError) {}

/** A remote agent whose verified key the trust model does not trust enough (or that is not pinned). */
export class UntrustedAgentError extends errorClass('UntrustedAgentError', 'ERR_A2A_UNTRUSTED', undefined, PolicyError) {
  /** Fingerprint of the key that signed the card. */
  readonly keyFingerprint: string;
  constructor(message: string, keyFingerprint: string, options?: ConvergeErrorOptions) {
    super(message, options);
    this.keyFingerprint = keyFingerprint;
  }
}

/** A remote A2A task that ended `failed` (or in a state this bridge cannot continue: input or auth required). */
export class A2ATaskFailedError extends errorClass('A2ATaskFailedError', 'ERR_A2A_TASK_FAILED') {
  /** The remote task id. */
  readonly taskId: string;
  /** The remote task state, as the A2A JSON name (`TASK_STATE_FAILED`, ...). */
  readonly state: string;
  constructor(message: string, taskId: string, state: string, options?: ConvergeErrorOptions) {
    super(message, options);
    this.taskId = taskId;
    this.state = state;
  }
}

/** A remote A2A task the remote agent rejected (`TASK_STATE_REJECTED`): a refusal, so outcome status `refused`. */
export class A2ATaskRejectedError extends errorClass('A2ATaskRejectedError', 'ERR_A2A_TASK_REJECTED', undefined, PolicyError) {
  /** The remote task id. */
  readonly taskId: string;
  constructor(message: string, taskId: string, options?: ConvergeErrorOptions) {
    super(message, options);
    this.taskId = taskId;
  }
}

/** A remote A2A task that was cancelled before it completed: outcome status `conflict`. */
export class A2ATaskCanceledError extends ConflictError {
  /** The remote task id. */
  readonly taskId: string;
  constructor(message: string, taskId: string, options?: ConvergeErrorOptions) {
    super(message, { ...options, currentState: 'cancelled' });
    this.name = 'A2ATaskCanceledError';
    (this as { code: string }).code = 'ERR_A2A_TASK_CANCELED';
    this.taskId = taskId;
  }
}

/** A remote task whose stream broke and could not be resumed within the reconnect budget. */
export class A2AConnectionError extends errorClass('A2AConnectionError', 'ERR_A2A_CONNECTION') {}

/** A push-notification URL refused because its host is, or resolves to, an internal address (or does not resolve): a `PolicyError`. */
export class PushTargetRefusedError extends errorClass('PushTargetRefusedError', 'ERR_A2A_PUSH_TARGET', undefined, PolicyError) {
  /** The URL's origin. */
  readonly origin: string;
  /** The internal address it is or resolved to (`null`: it did not resolve). */
  readonly address: string | null;
  constructor(message: string, origin: string, address: string | null, options?: ConvergeErrorOptions) {
    super(message, options);
    this.origin = origin;
    this.address = address;
  }
}
