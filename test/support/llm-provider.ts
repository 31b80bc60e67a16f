// A stand-in for an LLM provider in the tests of LLM agents: no model, no server. Typed by its
// shape (it is an `LLMProvider` of @converge/extensions/llm), so that any package's tests can
// use it.

/**
 * Answers every `chat` with `content` (as model `name`) and records each call's prompt (the
 * request's user message, after the system one) in `prompts`; `chatStream` is never expected.
 */
export class PromptRecordingProvider {
  /** The user message of each `chat` call, in order. */
  readonly prompts: string[] = [];

  constructor(
    readonly name: string,
    private readonly content: string,
  ) {}

  async chat(request: { messages: readonly { content: string }[] }): Promise<{ content: string; model: string }> {
    this.prompts.push(request.messages[1]!.content);
    return { content: this.content, model: this.name };
  }

  // eslint-disable-next-line require-yield
  async *chatStream(): AsyncIterable<{ delta: string }> {
    throw new Error('not called');
  }
}
