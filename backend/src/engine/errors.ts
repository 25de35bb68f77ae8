/** An error whose message is shown to the caller as is (no "Uncaught" prefix). */
export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EngineError";
  }
}
